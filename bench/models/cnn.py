"""Convolutional network on varying input resolutions (a small ResNet).

Input `image` f32 [batch, 3, height, width] (all dynamic; the traces use square
128..512). Stem conv 3x3/2 (32) + BN + ReLU, then four stages of one basic
residual block each (32, 64, 128, 256 channels; stride 1, 2, 2, 2, 1x1/2
projection shortcut when the shape changes), global average pool, Linear to 1000.
BatchNorm is in eval mode, so the exporter folds it into the convolutions.
Output: `logits` [batch, 1000]."""
import torch
from torch import nn

STAGES = ((32, 1), (64, 2), (128, 2), (256, 2))
CLASSES = 1000


def conv_bn(cin: int, cout: int, k: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride)
        self.conv2 = conv_bn(cout, cout, 3, 1)
        self.shortcut = conv_bn(cin, cout, 1, stride) if (stride != 1 or cin != cout) else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(torch.relu(self.conv1(x)))
        return torch.relu(y + self.shortcut(x))


class ResNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, STAGES[0][0], 3, 2)
        blocks = []
        cin = STAGES[0][0]
        for cout, stride in STAGES:
            blocks.append(BasicBlock(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, CLASSES)
        # Non-trivial BN statistics, so folding them is actually tested.
        gen = torch.Generator().manual_seed(7)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.running_mean.normal_(0.0, 0.1, generator=gen)
                    m.running_var.uniform_(0.5, 1.5, generator=gen)
                    m.weight.uniform_(0.5, 1.5, generator=gen)
                    m.bias.normal_(0.0, 0.1, generator=gen)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(image))
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))
