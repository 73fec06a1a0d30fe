"""KID/FID on the toy-domain features: they separate domains, rank a copy of the input below the truth, repeat
with a seed, and the feature network is trained once, cached, and replaced when its file is damaged."""

from __future__ import annotations

import urllib.error

import pytest
import torch

from cyclegan_lite import features
from cyclegan_lite.data import make_toy, open_dataset
from cyclegan_lite.evaluate import distribution_scores
from cyclegan_lite.features import (
    DOMAINS,
    FeatureCacheWarning,
    InceptionUnavailableError,
    cache_file,
    inception_features,
    smoke_features,
    toy_features,
    train_toy_net,
)


@pytest.fixture(scope="session")
def net():
    """The toy-domain network, trained once per test session into the session's toy cache."""
    return toy_features(progress=False)


def _unique(items: list[dict], key: str, path: str) -> torch.Tensor:
    return torch.stack(list({it[path]: it[key] for it in items}.values()))


@pytest.fixture(scope="session")
def horses(tmp_path_factory) -> dict[str, torch.Tensor]:
    """Toy horse2zebra at 64 px, seed 0 (unseen by the feature network): test A, its truth, test B, train B."""
    root = make_toy("toy-horse2zebra", tmp_path_factory.mktemp("h2z") / "set", n=240, size=64, progress=False)
    test = open_dataset(root, ("unpaired",), phase="test", load_size=64, crop_size=64)
    items = [test[i] for i in range(len(test))]
    train = open_dataset(root, ("unpaired",), load_size=64, crop_size=64, no_flip=True)
    train_items = [train[i] for i in range(len(train))]
    return {"A": _unique(items, "A", "A_path"), "A_truth": _unique(items, "A_truth", "A_path"),
            "B": _unique(items, "B", "B_path"), "train_B": _unique(train_items, "B", "B_path")[:120]}


@pytest.fixture(scope="session")
def bags(tmp_path_factory) -> dict[str, torch.Tensor]:
    """Toy edges2handbags at 64 px, seed 0: edges (A) and photos (B) of the training pairs, in two halves."""
    root = make_toy("toy-edges2handbags", tmp_path_factory.mktemp("bags") / "set", n=200, size=64, progress=False)
    data = open_dataset(root, ("side_by_side",), load_size=64, crop_size=64, no_flip=True)
    items = [data[i] for i in range(len(data))]
    return {k: torch.stack([it[k] for it in items]) for k in ("A", "B")}


def test_real_vs_real_is_near_zero_and_far_below_a_vs_b_on_horse2zebra(net, horses):
    real = distribution_scores(horses["B"], horses["train_B"], domain="zebra")
    other = distribution_scores(horses["A"], horses["train_B"], domain="zebra")
    print(f"horse2zebra KID: real B vs real B {real['kid']:.4f}, real A vs real B {other['kid']:.4f}")
    assert abs(real["kid"]) < 0.05 * other["kid"]
    assert other["kid"] > 3 * other["kid_std"]
    assert real["real_in_domain"] > 0.9 and real["in_domain"] > 0.9 and other["in_domain"] < 0.1


def test_real_vs_real_is_near_zero_and_far_below_a_vs_b_on_edges2handbags(net, bags):
    half = len(bags["B"]) // 2
    real = distribution_scores(bags["B"][:half], bags["B"][half:], domain="bag_photo")
    other = distribution_scores(bags["A"][:half], bags["B"][half:], domain="bag_photo")
    print(f"edges2handbags KID: real B vs real B {real['kid']:.4f}, real A vs real B {other['kid']:.4f}; "
          f"FID {real['fid']:.2f} vs {other['fid']:.2f}")
    assert abs(real["kid"]) < 0.05 * other["kid"]
    assert real["in_domain"] > 0.9 and other["in_domain"] < 0.1
    # 100 images a side: enough for FID on 64 features
    assert real["fid"] is not None and 0 <= real["fid"] < 0.2 * other["fid"]


def test_a_copy_of_the_input_scores_worse_than_the_true_translation(net, horses):
    truth = distribution_scores(horses["A_truth"], horses["B"], domain="zebra")
    copy = distribution_scores(horses["A"], horses["B"], domain="zebra")
    print(f"horse -> zebra KID: ground truth {truth['kid']:.4f}, copy of the input {copy['kid']:.4f}")
    assert copy["kid"] > 10 * max(truth["kid"], 0.01)
    assert truth["in_domain"] > 0.9 > 0.1 > copy["in_domain"]
    assert truth["fid"] is None and "feature width" in truth["fid_note"]  # 24 + 30 images < 64 features


def test_scores_repeat_with_a_seed_and_leave_the_global_random_state_alone(net, horses):
    state = torch.get_rng_state()
    first = distribution_scores(horses["A"], horses["B"], seed=3)
    assert torch.equal(state, torch.get_rng_state())
    assert distribution_scores(horses["A"], horses["B"], seed=3) == first
    other = distribution_scores(horses["A"], horses["B"], seed=4)
    assert other["kid"] != first["kid"] and other["kid"] == pytest.approx(first["kid"], rel=0.2)


def test_too_few_images_and_unknown_domains(net, horses):
    few = distribution_scores(horses["A"][:3], horses["B"])
    assert few["kid"] is None and few["fid"] is None and "too few images" in few["note"]
    with pytest.raises(ValueError, match="unknown toy domain 'cat'"):
        distribution_scores(horses["A"], horses["B"], domain="cat")
    grey = distribution_scores(horses["A"].mean(1, keepdim=True), horses["B"][:, :1])  # one channel works too
    assert grey["kid"] is not None


def test_smoke_features_score_without_the_toy_network(horses, tmp_path, monkeypatch):
    """The lessons' smoke runs score with an untrained 8-wide network: no training, no cache, no domain shares."""
    monkeypatch.setattr(features, "train_toy_net", lambda *a, **k: pytest.fail("smoke scoring trained the toy net"))
    monkeypatch.setenv("CYCLEGAN_LITE_CACHE", str(tmp_path))
    net = smoke_features()
    assert net(horses["A"][:2]).shape == (2, 8)
    s = distribution_scores(horses["A"], horses["B"], features=net)
    assert isinstance(s["kid"], float) and s["features"] == "Sequential (8 features)" and s["fid"] is not None
    with pytest.raises(ValueError, match="needs the toy-domain features"):
        distribution_scores(horses["A"], horses["B"], features=net, domain="zebra")


def test_training_is_deterministic():
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(40, 3, 64, 64, generator=g) * 2 - 1, torch.arange(40) % len(DOMAINS)
    a, _ = train_toy_net(images, labels, epochs=1, seed=5, batch_size=16)
    b, _ = train_toy_net(images, labels, epochs=1, seed=5, batch_size=16)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_the_cached_network_is_reused_without_training(net, monkeypatch):
    path = cache_file()
    assert path.is_file()
    monkeypatch.setattr(features, "_LOADED", {})
    monkeypatch.setattr(features, "train_toy_net", lambda *a, **k: pytest.fail("trained again"))
    again = toy_features(progress=False)
    assert again is not net
    assert all(torch.equal(x, y) for x, y in zip(again.state_dict().values(), net.state_dict().values()))


def _tiny_training_set(*args, **kwargs):
    g = torch.Generator().manual_seed(1)
    return torch.rand(16, 3, 64, 64, generator=g) * 2 - 1, torch.arange(16) % len(DOMAINS)


def test_a_damaged_cache_file_is_trained_again_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(features, "toy_training_set", _tiny_training_set)  # a damaged file, not the data, is tested
    path = cache_file(tmp_path)
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.warns(FeatureCacheWarning, match="not a readable torch file.*training the toy-domain feature"):
        toy_features(tmp_path, progress=False)
    monkeypatch.setattr(features, "_LOADED", {})
    monkeypatch.setattr(features, "train_toy_net", lambda *a, **k: pytest.fail("trained again"))
    assert isinstance(toy_features(tmp_path, progress=False), features.ToyDomainNet)  # the new file reads
    torch.save({"version": features.VERSION, "domains": ["cat", "dog"], "state_dict": {}}, path)
    monkeypatch.setattr(features, "_LOADED", {})
    with pytest.raises(pytest.fail.Exception, match="trained again"), pytest.warns(FeatureCacheWarning,
                                                                                   match="not a toy-domain network"):
        toy_features(tmp_path, progress=False)


def test_inception_offline_fails_in_one_line(tmp_path, monkeypatch):
    """No internet: torch-fidelity's weights download fails; we say what is needed instead of a traceback."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no weights cached from an earlier download
    try:
        from torch_fidelity import feature_extractor_inceptionv3 as fidelity
    except ImportError:
        with pytest.raises(InceptionUnavailableError, match="needs torch-fidelity"):
            inception_features()
        return

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(fidelity, "load_state_dict_from_url", offline)
    with pytest.raises(InceptionUnavailableError, match="needs the InceptionV3 weights download") as caught:
        inception_features()
    assert "\n" not in str(caught.value) and "--features toy" in str(caught.value)
    with pytest.raises(InceptionUnavailableError, match="no such InceptionV3 weights file"):
        inception_features(tmp_path / "missing.pth")


def test_the_first_use_trains_the_network_also_under_no_grad(tmp_path, monkeypatch):
    """A run's scores ask for the features inside ``torch.no_grad()``; training the network must still work."""
    monkeypatch.setattr(features, "toy_training_set", _tiny_training_set)
    with torch.no_grad():
        net = toy_features(tmp_path, progress=False)
    assert isinstance(net, features.ToyDomainNet) and cache_file(tmp_path).is_file()
