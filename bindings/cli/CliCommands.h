// The subcommands of the `dj` command and what they share: argument scanning
// and error reporting.
//
// Exit codes: 0 success, 1 an error while doing the work (bad model, bad input,
// failed run), 2 a usage error (unknown option, missing argument). Every error
// is printed as "dj: error: <message>" on stderr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/Status.h"

namespace dj {

int run_command(const std::vector<std::string>& args);   // `dj run ...`, args after "run"
int info_command(const std::vector<std::string>& args);  // `dj info ...`
int repl_command(const std::vector<std::string>& args);  // `dj repl ...`
int cache_command(const std::vector<std::string>& args); // `dj cache ...`
int cache_warm_command(const std::vector<std::string>& args);  // `dj cache warm ...`
int bench_command(const std::vector<std::string>& args); // `dj bench ...`

int report_error(const Status& status);           // prints, returns 1
int report_usage_error(const std::string& message, const std::string& command);  // prints, returns 2

// If args[i] is `flag VALUE` or `flag=VALUE`, stores VALUE, advances i past it and
// returns true. A flag with no value left sets `missing`.
bool take_flag_value(const std::vector<std::string>& args, size_t& i, const std::string& flag, std::string& value,
                     bool& missing);

// "1.50 MiB", "512 B".
std::string format_bytes(double bytes);
// "1.234 ms" from seconds.
std::string format_ms(double seconds);
// A whole non-negative decimal integer ("12"); nullopt for anything else ("-1", "1x", "").
std::optional<int64_t> parse_count(std::string_view text);

}  // namespace dj
