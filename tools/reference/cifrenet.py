"""CIFReNet in PyTorch, written from docs/cifrenet.md (the reference for rtseg's parity tests).
Module names and registration order reproduce the authors' state_dict keys."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DILATIONS = {
    "cityscapes": ((1, 2, 3, 5), (7, 9, 11, 13), (17, 19, 21, 23)),
    "camvid": ((1, 2, 3, 5), (5, 7, 9, 11), (11, 13, 15, 17)),
    "helen": ((1, 2, 3, 5), (3, 5, 7, 11), (7, 9, 11, 13)),
}


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t, d):
        super().__init__()
        h = cin * t
        self.residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, h, 3, stride, padding=d, dilation=d, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.residual else y


def stage(cin, cout, n, s, t, d):
    return nn.Sequential(*[InvertedResidual(cin if i == 0 else cout, cout, s if i == 0 else 1, t, d) for i in range(n)])


class BNPReLU(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.PReLU(c)

    def forward(self, x):
        return self.act(self.bn(x))


def shuffle(x, g):
    n, c, h, w = x.shape
    return x.view(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)


class Shuffle(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, x):
        return shuffle(x, self.g)


class DSP(nn.Module):
    def __init__(self, c, dilations, groups=4):
        super().__init__()
        m = c // 5
        self.groups = groups
        self.down = nn.Sequential(nn.Conv2d(c, m, 1, groups=groups, bias=False), BNPReLU(m))
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(m, m, 1), nn.BatchNorm2d(m))
        for i, d in enumerate(dilations):
            setattr(self, f"branch_{i + 1}", nn.Sequential(
                nn.Conv2d(m, m, 3, padding=d, dilation=d, groups=m, bias=False), BNPReLU(m),
                nn.Conv2d(m, m, 1, bias=False), nn.BatchNorm2d(m)))
        self.module_act = nn.PReLU(c)

    def forward(self, x):
        r = self.down(x)
        parts = [getattr(self, f"branch_{i}")(r) for i in range(1, 5)]
        parts.append(F.interpolate(self.pool(r), size=r.shape[2:], mode="bilinear", align_corners=True))
        return self.module_act(shuffle(torch.cat(parts, 1), self.groups) + x)


class MultiScale(nn.Module):
    def __init__(self, dil):
        super().__init__()
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(320, 80, 1), nn.BatchNorm2d(80), nn.LeakyReLU(0.1))
        self.conv_small = DSP(320, dil[0])
        self.conv_middle = DSP(320, dil[1])
        self.conv_larger = DSP(320, dil[2])

    def forward(self, x):
        s = self.conv_small(x)
        m = self.conv_middle(s)
        l = self.conv_larger(m)
        image = F.interpolate(self.pool(x), size=x.shape[2:], mode="bilinear", align_corners=True)
        return torch.cat([s + m + l, image], 1)


class Attention(nn.Module):
    def __init__(self, c=160, hidden=10):
        super().__init__()
        self.channel_excitation = nn.Sequential(nn.Linear(c, hidden), nn.ReLU(), nn.Linear(hidden, c), nn.Sigmoid())

    def forward(self, x):
        n, c = x.shape[:2]
        return self.channel_excitation(x.mean(dim=(2, 3))).view(n, c, 1, 1)


class CIFReNet(nn.Module):
    def __init__(self, num_classes=19, dataset="cityscapes", dropout=0.2):
        super().__init__()
        self.mod1 = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.mod2 = InvertedResidual(32, 16, 1, 1, 1)
        self.mod3 = stage(16, 24, 2, 2, 6, 1)
        self.mod4 = stage(24, 32, 3, 2, 6, 1)
        self.mod5 = stage(32, 64, 4, 1, 6, 2)
        self.mod6 = stage(64, 96, 3, 1, 6, 3)
        self.mod7 = stage(96, 160, 3, 1, 6, 5)
        self.mod8 = InvertedResidual(160, 320, 1, 6, 7)
        self.LRM = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32), BNPReLU(32), nn.Conv2d(32, 160, 1), BNPReLU(160))
        self.multi_scale = MultiScale(DILATIONS[dataset])
        self.attention = Attention()
        self.final = nn.Sequential(nn.Conv2d(400, 256, 1, groups=16), Shuffle(16), nn.BatchNorm2d(256),
                                   nn.LeakyReLU(0.1), nn.Dropout(dropout), nn.Conv2d(256, num_classes, 1))

    def forward_eighth(self, x):
        f3 = self.mod4(self.mod3(self.mod2(self.mod1(x))))
        f6 = self.mod7(self.mod6(self.mod5(f3)))
        f7 = self.mod8(self.LRM(f3) * self.attention(f6) + f6)
        return self.final(self.multi_scale(f7))

    def forward(self, x):
        return F.interpolate(self.forward_eighth(x), size=x.shape[2:], mode="bilinear", align_corners=True)
