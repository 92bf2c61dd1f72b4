"""PersonFCN: a small fully-convolutional concealed-person detector.

Input  [N, 3, H, W]: logHigh, logLow, lowPresent (see docs/model-contract.md), H and W multiples of 16.
Output heatmap [N, 1, H/4, W/4]: probability that a cell lies on a concealed person.
Output score   [N, 1]: probability that the input tile contains a person.
Sigmoids are inside the graph so the exported ONNX model returns probabilities.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

HEATMAP_STRIDE = 4
SIZE_MULTIPLE = 16


def conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class PersonFCN(nn.Module):
    def __init__(self, widths: tuple[int, int, int, int] = (16, 32, 48, 64)) -> None:
        super().__init__()
        c1, c2, c3, c4 = widths
        # Encoder: strides 2, 4, 8, 16.
        self.stem = conv_bn(3, c1, stride=2)
        self.down4 = nn.Sequential(conv_bn(c1, c2, stride=2), conv_bn(c2, c2))
        self.down8 = nn.Sequential(conv_bn(c2, c3, stride=2), conv_bn(c3, c3))
        # Dilated convolutions at stride 16 widen the receptive field to about a body length (~2 m at 10 mm).
        self.down16 = nn.Sequential(
            conv_bn(c3, c4, stride=2), conv_bn(c4, c4, dilation=1), conv_bn(c4, c4, dilation=2), conv_bn(c4, c4, dilation=4)
        )
        # Decoder back to stride 4 with skip connections.
        self.skip8 = nn.Conv2d(c3, c4, 1)
        self.fuse8 = conv_bn(c4, c3)
        self.skip4 = nn.Conv2d(c2, c3, 1)
        self.fuse4 = conv_bn(c3, c2)
        self.heat = nn.Conv2d(c2, 1, 1)
        # Tile score: global max of stride-16 features and of the heatmap logit.
        self.score_feat = nn.Conv2d(c4, 32, 1)
        self.score = nn.Linear(33, 1)
        nn.init.constant_(self.heat.bias, -4.0)

    def forward_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f2 = self.stem(x)
        f4 = self.down4(f2)
        f8 = self.down8(f4)
        f16 = self.down16(f8)
        u8 = F.interpolate(f16, scale_factor=2.0, mode="nearest") + self.skip8(f8)
        u8 = self.fuse8(u8)
        u4 = F.interpolate(u8, scale_factor=2.0, mode="nearest") + self.skip4(f4)
        u4 = self.fuse4(u4)
        heat_logit = self.heat(u4)
        g = torch.amax(F.relu(self.score_feat(f16)), dim=(2, 3))
        h = torch.amax(heat_logit, dim=(2, 3))
        score_logit = self.score(torch.cat([g, h], dim=1))
        return heat_logit, score_logit

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heat_logit, score_logit = self.forward_logits(x)
        return torch.sigmoid(heat_logit), torch.sigmoid(score_logit)


class PersonEnsemble(nn.Module):
    """Several PersonFCN trained alike from different seeds, in one graph with the same inputs and outputs.

    Runs of the same recipe that differ only in their seed differ by some 25 points of people found at
    2 % false alarms (docs/training.md): which structures a single run mistakes for a person is partly
    chance. The members' probabilities are averaged (`combine="mean"`: heatmap per cell, tile score per tile; on
    the validation scans this did as well as averaging logits or better) or their minimum is taken
    (`combine="min"`: a cell or a tile is as likely a person as the least convinced member says), and the
    exported file is still one model to the runtime.
    """

    COMBINES = ("mean", "min")

    def __init__(self, members: list[PersonFCN], combine: str = "mean") -> None:
        super().__init__()
        if not members:
            raise ValueError("PersonEnsemble needs at least one member")
        if combine not in self.COMBINES:
            raise ValueError(f"PersonEnsemble: combine must be one of {', '.join(self.COMBINES)} (got {combine!r})")
        self.members = nn.ModuleList(members)
        self.combine = combine

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heats, scores = zip(*(m(x) for m in self.members))
        if self.combine == "min":
            return torch.stack(heats).amin(dim=0), torch.stack(scores).amin(dim=0)
        return torch.stack(heats).mean(dim=0), torch.stack(scores).mean(dim=0)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs_per_megapixel(model: nn.Module, h: int = 512, w: int = 512) -> float:
    """Multiply-accumulates of every Conv2d and Linear per million input pixels, counted with hooks."""
    total = [0]

    def conv_hook(mod: nn.Conv2d, _inp, out) -> None:
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        total[0] += out.numel() * k

    def lin_hook(mod: nn.Linear, _inp, out) -> None:
        total[0] += out.numel() * mod.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    model.train(was_training)
    for hk in hooks:
        hk.remove()
    return total[0] / (h * w) * 1e6
