"""Tiny random-weight stand-ins for the metric feature networks (seeded, so every build gets the same weights).

They exercise the same code paths as the real networks and are reported under their own names:
  tiny-feat  : pooled conv features (stand-in for Inception pool3)   -> FD[tiny-feat], KID[tiny-feat]
  tiny-lpips : conv backbone returning three ReLU activations, plus non-negative linear heads -> LPIPS[tiny-lpips]
  tiny-embed : conv + linear embedding (stand-in for CLIP / DINOv2)   -> CLIP-I[tiny-embed]-style cosine x 100
Never call their numbers FID, LPIPS(alex), CLIP-I or DINOv2.
"""
import torch
import torch.nn as nn

INPUT = 32  # every tiny network takes 3 x 32 x 32


class TinyFeat(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.body(x)


class TinyLpipsBackbone(nn.Module):
    """Returns the activations LPIPS compares (like torchvision AlexNet's relu1..relu5 slices)."""

    def __init__(self):
        super().__init__()
        self.s1 = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        self.s2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1), nn.ReLU())
        self.s3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())

    def forward(self, x):
        a = self.s1(x)
        b = self.s2(a)
        c = self.s3(b)
        return a, b, c


class TinyEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 12))

    def forward(self, x):
        return self.body(x)


# LPIPS v0.1 ScalingLayer constants (richzhang/PerceptualSimilarity): inputs in [-1, 1], then (x - shift) / scale.
LPIPS_SHIFT = [-0.030, -0.088, -0.188]
LPIPS_SCALE = [0.458, 0.448, 0.450]
# CLIP's image normalisation, used by the embedding stand-in so the same descriptor fields are exercised.
EMBED_MEAN = [0.48145466, 0.4578275, 0.40821073]
EMBED_STD = [0.26862954, 0.26130258, 0.27577711]


def build(name):
    torch.manual_seed({'tiny-feat': 101, 'tiny-lpips': 202, 'tiny-embed': 303}[name])
    net = {'tiny-feat': TinyFeat, 'tiny-lpips': TinyLpipsBackbone, 'tiny-embed': TinyEmbed}[name]()
    net.eval()
    heads = None
    if name == 'tiny-lpips':
        g = torch.Generator().manual_seed(2020)
        # LPIPS' learned 1x1 convs are non-negative weights per channel
        heads = [torch.rand(c, generator=g, dtype=torch.float64) for c in (4, 8, 8)]
    return net, heads
