"""PIDNet (variant S by default) in PyTorch, written from docs/pidnet-s.md (the reference for
rtseg's parity tests). Module names and registration order reproduce the authors' state_dict keys
(tests/data/keys/pidnet_s_{infer,train}_19.tsv).

Like the authors' code, the ReLUs at the entries of layer4_ and layer5_d run in place, so the
saved tensors the auxiliary heads read (P3' and D4') are rectified too: rtseg makes that explicit,
and this reference reproduces it through PyTorch's own in-place semantics, an independent route to
the same numbers. Unlike the authors' code, the I-branch maps are resized to the actual size of
the P/D maps (identical on multiples of 8; the authors' code fails elsewhere)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k=1, stride=1, padding=0):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None, no_relu=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.no_relu = no_relu

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        y = y + (x if self.downsample is None else self.downsample(x))
        return y if self.no_relu else F.relu(y)


class Bottleneck(nn.Module):
    expansion = 2

    def __init__(self, cin, planes, stride=1, downsample=None, no_relu=True):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 2 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(2 * planes)
        self.downsample = downsample
        self.no_relu = no_relu

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        y = y + (x if self.downsample is None else self.downsample(x))
        return y if self.no_relu else F.relu(y)


def make_layer(block, cin, planes, count, stride=1):
    cout = planes * block.expansion
    proj = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None
    blocks = [block(cin, planes, stride, proj)]  # the block type's default ending
    for i in range(1, count):
        blocks.append(block(cout, planes, 1, None, no_relu=(i == count - 1)))
    return nn.Sequential(*blocks)


def make_single_layer(block, cin, planes):
    cout = planes * block.expansion
    return block(cin, planes, 1, conv_bn(cin, cout) if cin != cout else None, no_relu=True)


class SegmentHead(nn.Module):
    def __init__(self, cin, mid, cout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, mid, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, cout, 1, bias=True)

    def forward(self, x):
        return self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))


def preact(cin, cout, k=1, groups=1, pool=None):
    layers = [] if pool is None else [pool]
    layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, cout, k, 1, k // 2, groups=groups, bias=False)]
    return nn.Sequential(*layers)


class PAPPM(nn.Module):
    def __init__(self, cin, b, cout):
        super().__init__()
        self.scale1 = preact(cin, b, pool=nn.AvgPool2d(5, 2, 2))
        self.scale2 = preact(cin, b, pool=nn.AvgPool2d(9, 4, 4))
        self.scale3 = preact(cin, b, pool=nn.AvgPool2d(17, 8, 8))
        self.scale4 = preact(cin, b, pool=nn.AdaptiveAvgPool2d(1))
        self.scale0 = preact(cin, b)
        self.scale_process = preact(4 * b, 4 * b, 3, groups=4)
        self.compression = preact(5 * b, cout)
        self.shortcut = preact(cin, cout)

    def forward(self, x):
        size = x.shape[2:]
        x0 = self.scale0(x)
        levels = [F.interpolate(s(x), size=size, mode="bilinear", align_corners=False) + x0
                  for s in (self.scale1, self.scale2, self.scale3, self.scale4)]
        y = self.scale_process(torch.cat(levels, 1))
        return self.compression(torch.cat([x0, y], 1)) + self.shortcut(x)


class PagFM(nn.Module):
    def __init__(self, c, mid):
        super().__init__()
        self.f_x = conv_bn(c, mid)
        self.f_y = conv_bn(c, mid)

    def forward(self, x, y):
        size = x.shape[2:]
        q = F.interpolate(self.f_y(y), size=size, mode="bilinear", align_corners=False)
        sim = torch.sigmoid((self.f_x(x) * q).sum(dim=1, keepdim=True))
        return (1 - sim) * x + sim * F.interpolate(y, size=size, mode="bilinear", align_corners=False)


class LightBag(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv_p = conv_bn(c, c)
        self.conv_i = conv_bn(c, c)

    def forward(self, p, i, d):
        a = torch.sigmoid(d)
        return self.conv_p((1 - a) * i + p) + self.conv_i(i + a * p)


class PIDNet(nn.Module):
    def __init__(self, num_classes=19, augment=False, m=2, n=3, planes=32, ppm_planes=96, head_planes=128):
        super().__init__()
        p = planes
        self.augment = augment
        self.conv1 = nn.Sequential(nn.Conv2d(3, p, 3, 2, 1), nn.BatchNorm2d(p), nn.ReLU(),
                                   nn.Conv2d(p, p, 3, 2, 1), nn.BatchNorm2d(p), nn.ReLU())
        self.layer1 = make_layer(BasicBlock, p, p, m)
        self.layer2 = make_layer(BasicBlock, p, 2 * p, m, 2)
        self.layer3 = make_layer(BasicBlock, 2 * p, 4 * p, n, 2)
        self.layer4 = make_layer(BasicBlock, 4 * p, 8 * p, n, 2)
        self.layer5 = make_layer(Bottleneck, 8 * p, 8 * p, 2, 2)
        self.compression3 = conv_bn(4 * p, 2 * p)
        self.compression4 = conv_bn(8 * p, 2 * p)
        self.pag3 = PagFM(2 * p, p)
        self.pag4 = PagFM(2 * p, p)
        self.layer3_ = make_layer(BasicBlock, 2 * p, 2 * p, m)
        self.layer4_ = make_layer(BasicBlock, 2 * p, 2 * p, m)
        self.layer5_ = make_layer(Bottleneck, 2 * p, 2 * p, 1)
        self.layer3_d = make_single_layer(BasicBlock, 2 * p, p)
        self.layer4_d = make_layer(Bottleneck, p, p, 1)
        self.diff3 = conv_bn(4 * p, p, 3, 1, 1)
        self.diff4 = conv_bn(8 * p, 2 * p, 3, 1, 1)
        self.spp = PAPPM(16 * p, ppm_planes, 4 * p)
        self.dfm = LightBag(4 * p)
        self.layer5_d = make_layer(Bottleneck, 2 * p, 2 * p, 1)
        if augment:
            self.seghead_p = SegmentHead(2 * p, head_planes, num_classes)
            self.seghead_d = SegmentHead(2 * p, p, 1)
        self.final_layer = SegmentHead(4 * p, head_planes, num_classes)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")

    # Hooks for ICFRNet: the shared 1/8 feature, and a refinement of a branch feature at a site
    # ("P3", "D3", "P4", "D4", "P5", "D5") given the I-branch feature of that stage.
    def shared(self, x8):
        pass

    def refine(self, site, feature, context):
        return feature

    def heads(self, x):
        """[P-aux, main, boundary] in the training graph, [main] in the inference graph."""
        x8 = F.relu(self.layer2(F.relu(self.layer1(self.conv1(x)))))
        self.shared(x8)
        size = x8.shape[2:]
        up = lambda t: F.interpolate(t, size=size, mode="bilinear", align_corners=False)  # noqa: E731
        p = self.layer3_(x8)
        d = self.layer3_d(x8)
        i3 = F.relu(self.layer3(x8))
        p = self.refine("P3", self.pag3(p, self.compression3(i3)), i3)
        d = self.refine("D3", d + up(self.diff3(i3)), i3)
        temp_p = p
        i4 = F.relu(self.layer4(i3))
        p = self.layer4_(F.relu(p, inplace=True))  # rectifies temp_p as well
        d = self.layer4_d(F.relu(d))
        p = self.refine("P4", self.pag4(p, self.compression4(i4)), i4)
        d = self.refine("D4", d + up(self.diff4(i4)), i4)
        temp_d = d
        p = self.layer5_(F.relu(p))
        d = self.layer5_d(F.relu(d, inplace=True))  # rectifies temp_d as well
        i5 = up(self.spp(self.layer5(i4)))
        p = self.refine("P5", p, i5)
        d = self.refine("D5", d, i5)
        main = self.final_layer(self.dfm(p, i5, d))
        if not self.augment:
            return [main]
        return [self.seghead_p(temp_p), main, self.seghead_d(temp_d)]

    def forward(self, x):
        out = self.heads(x)
        return out if self.augment else out[0]
