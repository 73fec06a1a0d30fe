"""Feature networks for the distribution scores (KID, FID) of :mod:`cyclegan_lite.evaluate`.

FID and KID compare two sets of images through the features a fixed network computes for them. The standard
network is InceptionV3 trained on ImageNet, whose weights must be downloaded: no package bundles them. So the
default here is a network that needs no download: **the toy-domain classifier**, a small CNN trained once, on
the CPU in seconds, to tell apart the eight kinds of image the embedded toy sets draw:

    horse, zebra, bag_edges, bag_photo, anime_face, celeb_male, celeb_female, digit

Its training images are drawn by the toy makers with their own seed (``TRAIN_SEED``), not the seed 0 of the
default toy sets, so the images it is later asked about were never seen in training. Its features are the 64
averaged channels of its last convolution, the layer under the classifier (as FID uses Inception's pool layer,
under ImageNet's classifier). The trained weights are cached in the toy cache folder (``$CYCLEGAN_LITE_CACHE``,
else ``~/.cache/cyclegan_lite``), written atomically and loaded with ``weights_only=True``; a damaged file is
replaced by a fresh training, with a warning.

What these features can tell, and what they cannot:

- They were trained to tell the toy domains apart, so KID or FID on them measures how much a set of images
  "looks like domain X to a toy-domain classifier": a copy of a horse is far from the zebras, a generated
  zebra that the classifier takes for a zebra is near them. The share of images the classifier assigns to the
  intended domain is reported beside them (``in_domain``).
- Within one domain they see what helped tell domains apart: colours, coarse texture (stripes, edge lines,
  skin and hair), layout. Defects that do not matter for the domain (a blurry eye, a slightly wrong shape,
  repeated samples: mode collapse shows only in how the features spread) may move them little. They are no
  judge of realism beyond that.
- They know nothing outside the toy domains: on real photographs (the real horse2zebra, CelebA, konachan
  crops) their numbers have no established meaning. Use Inception there (``inception_features``, or
  ``--features inception`` on the command line), and compare numbers only between runs scored with the same
  features, image count and size. Inception's features (2048 wide, from 1.3 million ImageNet photographs)
  describe real photographs far more finely; FID/KID on them are the numbers papers report.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

#: the toy domains the classifier tells apart, in the order of its outputs
DOMAINS = ("horse", "zebra", "bag_edges", "bag_photo", "anime_face", "celeb_male", "celeb_female", "digit")
#: the domains of each embedded toy set: (A, B) for translation sets, one name for single-folder sets
TOY_DOMAINS = {"toy-horse2zebra": ("horse", "zebra"), "toy-edges2handbags": ("bag_edges", "bag_photo"),
               "toy-anime-faces": ("anime_face",), "digits": ("digit",)}
INPUT_SIZE = 64      # every image is resized to this square side first
WIDTH = 64           # number of features
TRAIN_SEED = 7919    # toy images and weights: a seed the default toy sets (seed 0) do not use
TRAIN_EPOCHS = 6
VERSION = 1          # bump when the network, its data or its training change, so stale caches are not reused
#: training images per domain (the horse2zebra, bags and CelebA makers' n; digits and anime faces take it as is)
TRAIN_COUNTS = {"toy-horse2zebra": 120, "toy-edges2handbags": 150, "toy-anime-faces": 150, "mini-celeba": 300,
                "digits": 150}


def toy_domains(data: str, direction: str = "AtoB") -> tuple[str, ...] | None:
    """The toy domains of dataset ``data`` ((A, B) as a run with ``direction`` sees them), or None where ``data``
    is no embedded toy set the classifier knows (a folder, mini-celeba's mixed faces)."""
    domains = TOY_DOMAINS.get(str(data))
    return domains[::-1] if domains and direction == "BtoA" else domains


class FeatureCacheWarning(UserWarning):
    """The cached feature network could not be read and is trained again."""


class InceptionUnavailableError(RuntimeError):
    """InceptionV3's weights (or torch-fidelity, which defines the network) cannot be had; the message says why."""


def prepare(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1], C = 1 or 3, of any size, as float32 (N, 3, size, size): grey repeated
    to RGB, resized with antialiasing (a non-square image is stretched, as a classifier's input usually is)."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images (N, 1 or 3, H, W) in [-1, 1], got shape {tuple(images.shape)}")
    x = images.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x.clamp(-1, 1)


class ToyDomainNet(nn.Module):
    """A small CNN: four stride-2 3x3 convolutions with batch norm and ReLU (64 -> 4 px), averaged to ``WIDTH``
    features, then a linear classifier over ``DOMAINS``. Called on images, it returns the features, as
    torchmetrics' FID/KID expect of a ``feature`` module; ``classify`` returns the domain logits."""

    num_features = WIDTH  # read by torchmetrics' FrechetInceptionDistance
    domains = DOMAINS
    name = "toy"

    def __init__(self):
        super().__init__()
        widths = (3, 32, 64, 64, WIDTH)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(WIDTH, len(DOMAINS))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(prepare(images))

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self(images))


# -- training data: the toy makers, drawn with TRAIN_SEED ------------------------------------------------------


def _load_folder(files: list[Path]) -> list[torch.Tensor]:
    from .data.images import load_image
    from .data.transforms import to_tensor

    return [to_tensor(load_image(p, channels=3)) for p in files]


def _center_square(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return x[..., top:top + side, left:left + side]


def toy_training_set(counts: dict[str, int] | None = None, seed: int = TRAIN_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 3, INPUT_SIZE, INPUT_SIZE) in [-1, 1] and their domain labels (indices into ``DOMAINS``),
    drawn by the toy makers into a temporary folder with ``seed``. ``counts``: the makers' n (``TRAIN_COUNTS``)."""
    from .data.celeba import ATTRIBUTES_FILE, IMAGES_DIR, read_attributes
    from .data.images import list_images
    from .data.toys import make_toy

    counts = {**TRAIN_COUNTS, **(counts or {})}
    images: list[torch.Tensor] = []
    labels: list[int] = []

    def add(domain: str, tensors: list[torch.Tensor]) -> None:
        images.extend(prepare(t[None])[0] for t in tensors)
        labels.extend([DOMAINS.index(domain)] * len(tensors))

    with tempfile.TemporaryDirectory(prefix="toy-features-") as tmp:
        root = Path(tmp)
        h2z = make_toy("toy-horse2zebra", root / "h2z", n=counts["toy-horse2zebra"], size=INPUT_SIZE, seed=seed,
                       progress=False)
        add("horse", _load_folder(list_images(h2z / "trainA")))
        add("zebra", _load_folder(list_images(h2z / "trainB")))
        bags = make_toy("toy-edges2handbags", root / "bags", n=counts["toy-edges2handbags"], size=INPUT_SIZE,
                        seed=seed, progress=False)
        pairs = _load_folder(list_images(bags / "train"))
        half = pairs[0].shape[-1] // 2
        add("bag_edges", [p[..., :half] for p in pairs])
        add("bag_photo", [p[..., half:] for p in pairs])
        anime = make_toy("toy-anime-faces", root / "anime", n=counts["toy-anime-faces"], size=INPUT_SIZE, seed=seed,
                         progress=False)
        add("anime_face", _load_folder(list_images(anime)))
        celeba = make_toy("mini-celeba", root / "celeba", n=counts["mini-celeba"], seed=seed, progress=False)
        names, rows = read_attributes(celeba / ATTRIBUTES_FILE)
        male = names.index("Male")
        files = list_images(celeba / IMAGES_DIR)
        faces = [_center_square(x) for x in _load_folder(files)]  # as data_scripts/prepare_celeba.py crops them
        for sex, domain in ((1, "celeb_male"), (-1, "celeb_female")):
            add(domain, [x for x, p in zip(faces, files) if rows[p.name][male] == sex])
        digits = make_toy("digits", root / "digits", n=counts["digits"], size=32, seed=seed, progress=False)
        add("digit", _load_folder(list_images(digits)))
    return torch.stack(images), torch.tensor(labels)


def train_toy_net(images: torch.Tensor, labels: torch.Tensor, *, epochs: int = TRAIN_EPOCHS, seed: int = TRAIN_SEED,
                  batch_size: int = 64) -> tuple[ToyDomainNet, float]:
    """Train a ``ToyDomainNet`` on the CPU (weights, order and flips from ``seed``; the global random state is
    left as it was). Returns the network in eval mode and its accuracy on a held-out tenth of the images."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=generator)
    held = order[: max(1, len(images) // 10)]
    train = order[len(held):]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = ToyDomainNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    per_epoch = -(-len(train) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / (epochs * per_epoch))
    net.train()
    with torch.enable_grad():  # also when called under no_grad (the first score of a run needs it)
        for _ in range(epochs):
            shuffled = train[torch.randperm(len(train), generator=generator)]
            for start in range(0, len(shuffled), batch_size):
                index = shuffled[start:start + batch_size]
                x = images[index]
                flip = torch.rand(len(x), generator=generator) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(-1), x)
                loss = F.cross_entropy(net.classify(x), labels[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
    net.eval().requires_grad_(False)
    with torch.no_grad():
        accuracy = float((net.classify(images[held]).argmax(1) == labels[held]).float().mean())
    return net, accuracy


# -- the cached network ----------------------------------------------------------------------------------------


def cache_file(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the trained toy-domain network is kept: ``toy-features-v{VERSION}-w{WIDTH}-seed{TRAIN_SEED}.pt``
    in the toy cache folder."""
    from .data.toys import default_cache_dir

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"toy-features-v{VERSION}-w{WIDTH}-seed{TRAIN_SEED}.pt"


def _read_cache(path: Path) -> ToyDomainNet:
    """The network stored at ``path``; ValueError saying what is wrong with the file otherwise."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file fails in many ways (zip, pickle, weights_only checks)
        raise ValueError(f"not a readable torch file ({type(e).__name__}: {str(e).splitlines()[0][:100]})") from None
    ours = isinstance(payload, dict) and payload.get("version") == VERSION
    if not ours or tuple(payload.get("domains", ())) != DOMAINS:
        raise ValueError(f"not a toy-domain network of version {VERSION} with domains {', '.join(DOMAINS)}")
    net = ToyDomainNet()
    try:
        net.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError) as e:
        raise ValueError(f"its weights do not fit the network ({str(e).splitlines()[0][:100]})") from None
    net.accuracy = payload.get("accuracy")
    net.train_seconds = payload.get("seconds")
    return net.eval().requires_grad_(False)


_LOADED: dict[Path, ToyDomainNet] = {}


def toy_features(cache_dir: str | os.PathLike | None = None, *, progress: bool = True) -> ToyDomainNet:
    """The trained toy-domain network (on the CPU, eval mode, no gradients), from the cache folder; trained there
    on first use (a few seconds, a line on stderr unless ``progress=False``), one process at a time."""
    from .fileio import atomic_write, exclusive_lock

    path = cache_file(cache_dir)
    if path in _LOADED:
        return _LOADED[path]
    with exclusive_lock(path.parent / f".{path.name}.lock", f"feature network {path}", wait=True):
        net = None
        if path.is_file():
            try:
                net = _read_cache(path)
            except ValueError as e:
                warnings.warn(f"{path}: {e}; training the toy-domain feature network again", FeatureCacheWarning,
                              stacklevel=2)
        if net is None:
            started = time.perf_counter()
            if progress:
                print(f"training the toy-domain feature network once (seconds; cached in {path})", flush=True,
                      file=sys.stderr)
            net, accuracy = train_toy_net(*toy_training_set())
            net.accuracy, net.train_seconds = accuracy, round(time.perf_counter() - started, 2)
            with atomic_write(path, "wb") as f:
                torch.save({"version": VERSION, "domains": list(DOMAINS), "accuracy": accuracy,
                            "seconds": net.train_seconds, "state_dict": net.state_dict()}, f)
    _LOADED[path] = net
    return net


def smoke_features() -> nn.Module:
    """A tiny untrained feature network (one strided convolution, 8 averaged channels) for the lessons' smoke runs:
    the scoring code runs in a fraction of a second without training the toy-domain classifier, and its numbers
    measure nothing."""
    return nn.Sequential(nn.Conv2d(3, 8, 4, 4), nn.AdaptiveAvgPool2d(1), nn.Flatten())


# -- InceptionV3, where its weights can be had -----------------------------------------------------------------


class InceptionFeatures(nn.Module):
    """torchmetrics' InceptionV3 (torch-fidelity's port of the TensorFlow FID network), 2048 pool features, fed
    our [-1, 1] images: grey repeated to RGB, then converted to the 8-bit images it expects."""

    num_features = 2048
    name = "inception"

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.net(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))


def inception_features(weights: str | os.PathLike | None = None) -> InceptionFeatures:
    """The standard FID feature network. Its weights are downloaded by torch-fidelity on first use (into torch's
    hub cache), or read from ``weights`` (the released ``weights-inception-2015-12-05-6726825d.pth``). Raises
    ``InceptionUnavailableError`` with one line saying what is missing when they cannot be had (offline)."""
    try:
        from torch_fidelity import feature_extractor_inceptionv3 as fidelity
        from torchmetrics.image.fid import NoTrainInceptionV3
    except ImportError:
        raise InceptionUnavailableError(
            "--features inception needs torch-fidelity (pip install torch-fidelity, or the [inception] extra) "
            "and a download of the InceptionV3 weights; the default --features toy works offline") from None
    if weights is not None:
        weights = Path(weights)
        if not weights.is_file():
            raise InceptionUnavailableError(f"{weights}: no such InceptionV3 weights file")
        try:
            torch.load(weights, map_location="cpu", weights_only=True)  # refuse pickled code before it is loaded
        except Exception as e:
            raise InceptionUnavailableError(f"{weights}: not a readable weights file ({type(e).__name__})") from None
    try:
        net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                 feature_extractor_weights_path=None if weights is None else str(weights))
    except (OSError, RuntimeError) as e:  # urllib's URLError and socket errors are OSErrors; a torn file, Runtime
        raise InceptionUnavailableError(
            f"--features inception needs the InceptionV3 weights download ({fidelity.URL_INCEPTION_V3}), which "
            f"failed ({type(e).__name__}: {str(e)[:80]}); connect to the internet once (they are then cached), or "
            f"download the file elsewhere and pass --inception_weights FILE; offline, use --features toy") from None
    return InceptionFeatures(net)
