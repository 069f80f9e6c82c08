"""ICFRNet (the reconstruction of docs/icfrnet.md, variant A by default) in PyTorch, the reference
for rtseg's parity tests: PIDNet-S (pidnet.py) plus an IC branch of two BasicBlocks on the shared
1/8 feature, an IC head and complexity-guided spatial attention (ICGA). PIDNet-S's keys keep their
order; ICFRNet's own (ic_layer, ic_head, icga_*) follow.

Options (docs/icfrnet.md, "Open choices"):
  ic_head   "convbn" (ReLU → 3×3 conv with bias → BN(1), variant A) or "segmenthead" (variant B)
  guidance  "features" (the 64-channel IC-branch output Z) or "map" (sigmoid of the IC logit)
  pooled    "branch" (max/mean over the refined P/D feature) or "context" (over the I-branch
            feature of the stage, resized to the refined feature's size)
  placement "stage5" (icga_p on P5, icga_d on D5) or "stages34" (icga_p3, icga_d3, icga_p4, icga_d4)
  kernel, bias, residual   the ICGA conv and S·(1 + A) instead of S·A"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from pidnet import PIDNet, BasicBlock, SegmentHead, make_layer


class ICHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, 1, 3, 1, 1, bias=True)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, z):
        return self.bn(self.conv(F.relu(z)))


class ICGA(nn.Module):
    def __init__(self, guidance_channels, kernel=3, bias=True, residual=False):
        super().__init__()
        self.conv = nn.Conv2d(guidance_channels + 2, 1, kernel, 1, kernel // 2, bias=bias)
        self.residual = residual

    def forward(self, s, pooled_from, guidance):
        stats = [guidance, pooled_from.max(dim=1, keepdim=True)[0], pooled_from.mean(dim=1, keepdim=True)]
        a = torch.sigmoid(self.conv(torch.cat(stats, 1)))
        return s * (1 + a) if self.residual else s * a


class ICFRNet(PIDNet):
    def __init__(self, num_classes=19, augment=False, ic_head="convbn", guidance="features", pooled="branch",
                 placement="stage5", kernel=3, bias=True, residual=False):
        super().__init__(num_classes, augment)
        z = 64
        self.guidance_kind, self.pooled = guidance, pooled
        self.ic_layer = make_layer(BasicBlock, z, z, 2)
        self.ic_head = ICHead(z) if ic_head == "convbn" else SegmentHead(z, 128, 1)
        g = z if guidance == "features" else 1
        sites = {"stage5": [("icga_p", "P5"), ("icga_d", "D5")],
                 "stages34": [("icga_p3", "P3"), ("icga_d3", "D3"), ("icga_p4", "P4"), ("icga_d4", "D4")]}[placement]
        self.site_module = {}
        for name, site in sites:
            setattr(self, name, ICGA(g, kernel, bias, residual))
            self.site_module[site] = name
        for name in ["ic_layer", "ic_head"] + [n for n, _ in sites]:
            for mod in getattr(self, name).modules():
                if isinstance(mod, nn.Conv2d):
                    nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")

    def shared(self, x8):
        z = self.ic_layer(x8)
        self.ic_logits = self.ic_head(z)
        self.guidance = z if self.guidance_kind == "features" else torch.sigmoid(self.ic_logits)

    def refine(self, site, feature, context):
        if site not in self.site_module:
            return feature
        size = feature.shape[2:]
        fit = lambda t: t if t.shape[2:] == size else F.interpolate(  # noqa: E731
            t, size=size, mode="bilinear", align_corners=False)
        source = feature if self.pooled == "branch" else fit(context)
        return getattr(self, self.site_module[site])(feature, source, fit(self.guidance))

    def outputs(self, x):
        """(heads, ic_logits at 1/8, ic_map = sigmoid(bilinear(ic_logits, H×W)))."""
        heads = self.heads(x)
        ic_map = torch.sigmoid(F.interpolate(self.ic_logits, size=x.shape[2:], mode="bilinear", align_corners=False))
        return heads, self.ic_logits, ic_map

    def forward(self, x):
        heads, _, ic_map = self.outputs(x)
        return (heads if self.augment else heads[0]), ic_map
