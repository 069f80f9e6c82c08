"""PyTorch reference of the IC9600 complexity teacher ICNet, written from docs/icfrnet.md,
"IC9600 teacher", and the key list tests/data/keys/ic9600_icnet.tsv for rtseg's converter/parity
test (no torchvision needed: the two ResNet-18 trunks are built here with torchvision's module
names). Dev-time only.

The module names reproduce the authors' state_dict keys exactly (b1_1.0 = conv1, b1_1.1 = bn1,
b1_1.4 = layer1, b1_2 = layer2, ...; slam(s).linear = Linear(s², 512), ReLU, Linear(512, 1),
Sigmoid; up1/up2 = conv + bn; to_map_f/to_score_f = conv + bn; to_map.to_map.0 = 1×1 conv;
head = Linear, ReLU, Linear, Sigmoid), so torch.save(model.state_dict()) has the layout of the
authors' ck.pth. size = the input side S (512 for the authors; the context copy is S/2 and the
fused maps S/8, the SLAM sizes stay 32/16/8, as rtseg's IcnetTeacher does for other S).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


def layer(cin, cout, stride):
    return nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1))


def stem():
    """ResNet-18 conv1, bn1, relu, maxpool, layer1 as one Sequential (indices 0..4)."""
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1), layer(64, 64, 1))


class Slam(nn.Module):
    """Spatial layout attention: one sigmoid gate per channel from its s×s layout."""

    def __init__(self, s):
        super().__init__()
        self.s = s
        self.linear = nn.Sequential(nn.Linear(s * s, 512), nn.ReLU(), nn.Linear(512, 1), nn.Sigmoid())

    def forward(self, x):
        n, c = x.shape[:2]
        layout = x if tuple(x.shape[-2:]) == (self.s, self.s) else F.interpolate(
            x, size=(self.s, self.s), mode="bilinear", align_corners=True)
        gate = self.linear(layout.reshape(n, c, self.s * self.s))
        return x * gate.reshape(n, c, 1, 1)


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class UpConvBnRelu(nn.Module):
    def __init__(self, size, cin, cout):
        super().__init__()
        self.size = size
        self.conv = nn.Conv2d(cin, cout, 1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=True)
        return F.relu(self.bn(self.conv(x)))


class ToMap(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.to_map = nn.Sequential(nn.Conv2d(cin, 1, 1), nn.Sigmoid())

    def forward(self, x):
        return self.to_map(x)


class ICNet(nn.Module):
    def __init__(self, size=512):
        super().__init__()
        self.size = size
        self.b1_1, self.b1_1_slam = stem(), Slam(32)
        self.b1_2, self.b1_2_slam = layer(64, 128, 2), Slam(32)
        self.b2_1, self.b2_1_slam = stem(), Slam(32)
        self.b2_2, self.b2_2_slam = layer(64, 128, 2), Slam(32)
        self.b2_3, self.b2_3_slam = layer(128, 256, 2), Slam(16)
        self.b2_4, self.b2_4_slam = layer(256, 512, 2), Slam(8)
        self.up1 = UpConvBnRelu(size // 8, 128, 256)
        self.up2 = UpConvBnRelu(size // 8, 512, 256)
        self.to_map_f, self.to_map_f_slam, self.to_map = ConvBnRelu(512, 512), Slam(32), ToMap(512)
        self.to_score_f, self.to_score_f_slam = ConvBnRelu(512, 512), Slam(32)
        self.head = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1), nn.Sigmoid())

    def forward(self, x):
        """Returns (map N×1×S/8×S/8, score N)."""
        assert x.shape[-2:] == (self.size, self.size)
        context = F.interpolate(x, size=(self.size // 2, self.size // 2), mode="bilinear", align_corners=True)
        detail = self.b1_2_slam(self.b1_2(self.b1_1_slam(self.b1_1(x))))
        context = self.b2_2_slam(self.b2_2(self.b2_1_slam(self.b2_1(context))))
        context = self.b2_4_slam(self.b2_4(self.b2_3_slam(self.b2_3(context))))
        fused = torch.cat([self.up1(detail), self.up2(context)], dim=1)
        cmap = self.to_map(self.to_map_f_slam(self.to_map_f(fused)))
        pooled = self.to_score_f_slam(self.to_score_f(fused)).mean(dim=(2, 3))
        return cmap, self.head(pooled).reshape(-1)
