// CompileQueue: a priority queue of compile jobs served by worker threads (see CompileQueue.h).
#include "jit/CompileQueue.h"

#include "runtime/Log.h"

namespace dj::jit {

struct CompileQueue::Entry {
  std::string key;
  Job job;
  std::vector<Callback> callbacks;
  std::promise<CompileResult> promise;
  std::shared_future<CompileResult> future;
  std::pair<int64_t, uint64_t> order;
};

namespace {

CompileResult cancelled_result(const std::string& key) {
  return make_error(StatusCode::Internal, "compile job '", key, "' cancelled: the compile queue shut down");
}

}  // namespace

CompileQueue::CompileQueue(int workers, CompilePriority priority) {
  if (workers < 1) workers = 1;
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, priority] { work(priority); });
}

CompileQueue::~CompileQueue() { shutdown(); }

CompileQueue::Ticket CompileQueue::submit(const std::string& key, int priority, Job job, Callback on_done) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) {
    lock.unlock();
    CompileResult result = cancelled_result(key);
    if (on_done) on_done(result);
    std::promise<CompileResult> done;
    done.set_value(std::move(result));
    return Ticket{done.get_future().share(), false};
  }
  if (auto it = pending_by_key_.find(key); it != pending_by_key_.end()) {
    if (on_done) it->second->callbacks.push_back(std::move(on_done));
    return Ticket{it->second->future, true};
  }
  auto entry = std::make_shared<Entry>();
  entry->key = key;
  entry->job = std::move(job);
  if (on_done) entry->callbacks.push_back(std::move(on_done));
  entry->future = entry->promise.get_future().share();
  entry->order = {-static_cast<int64_t>(priority), next_sequence_++};
  queue_.emplace(entry->order, entry);
  pending_by_key_.emplace(key, entry);
  lock.unlock();
  wake_.notify_one();
  return Ticket{entry->future, false};
}

void CompileQueue::work(CompilePriority priority) {
  if (Status st = apply_compile_priority_to_this_thread(priority); !st.ok())
    DJ_LOG_WARN("compile queue: " << st.message() << "; compiling at the serving threads' priority");
  for (;;) {
    std::shared_ptr<Entry> entry;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      entry = queue_.begin()->second;
      queue_.erase(queue_.begin());
      ++running_;
    }
    CompileResult result = make_error(StatusCode::Internal, "compile job '", entry->key, "' produced nothing");
    try {
      result = entry->job();
    } catch (const std::exception& e) {
      result = make_error(StatusCode::Internal, "compile job '", entry->key, "' threw: ", e.what());
    } catch (...) {
      result = make_error(StatusCode::Internal, "compile job '", entry->key, "' threw a non-standard exception");
    }
    std::vector<Callback> callbacks;
    {
      // Remove the key before publishing, so a callback may resubmit it.
      std::lock_guard<std::mutex> lock(mutex_);
      pending_by_key_.erase(entry->key);
      callbacks = std::move(entry->callbacks);
      --running_;
      ++completed_;
    }
    for (Callback& cb : callbacks) cb(result);
    entry->promise.set_value(std::move(result));
  }
}

void CompileQueue::shutdown() {
  std::call_once(shutdown_once_, [this] { stop_and_join(); });
}

void CompileQueue::stop_and_join() {
  std::map<std::pair<int64_t, uint64_t>, std::shared_ptr<Entry>> cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    cancelled.swap(queue_);
    for (auto& [order, entry] : cancelled) pending_by_key_.erase(entry->key);
  }
  wake_.notify_all();
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
  for (auto& [order, entry] : cancelled) {
    CompileResult result = cancelled_result(entry->key);
    for (Callback& cb : entry->callbacks) cb(result);
    entry->promise.set_value(std::move(result));
  }
}

size_t CompileQueue::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

size_t CompileQueue::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

uint64_t CompileQueue::completed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_;
}

}  // namespace dj::jit
