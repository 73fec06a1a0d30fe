"""Paired scores: exact on identical images, L1, PSNR and SSIM by hand, and they rank translations; the test-set,
translation and colour helpers the lessons use."""

from __future__ import annotations

import pytest
import torch

from cyclegan_lite.data import make_toy, open_dataset
from cyclegan_lite.evaluate import colour_spread, dataset_images, mean_colours, paired_scores, ssim_maps, translate


def _pair(seed: int, shape=(2, 3, 40, 37)):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1
    b = (a + 0.3 * torch.randn(shape, generator=g, dtype=torch.float64)).clamp(-1, 1)
    return a, b


def test_identical_images_score_perfectly():
    a, _ = _pair(0)
    scores = paired_scores(a, a.clone())
    assert scores == {"l1": 0.0, "psnr": 100.0, "ssim": pytest.approx(1.0, abs=1e-12)}


def test_l1_and_psnr_by_hand():
    fake = torch.zeros(1, 1, 16, 16)
    truth = torch.full((1, 1, 16, 16), 0.2)  # 0.1 apart on the [0, 1] scale
    scores = paired_scores(fake, truth)
    assert scores["l1"] == pytest.approx(0.2)
    assert scores["psnr"] == pytest.approx(20.0)  # 10 log10(1 / 0.01)


def test_ssim_by_hand_on_flat_images():
    """Flat images have no variance, so SSIM (Wang et al. 2004, eq. 13) is its luminance term alone,
    (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) with C1 = (0.01 L)^2 and L = 1 on the [0, 1] scale."""
    fake = torch.zeros(2, 3, 16, 16)            # 0.5 on the [0, 1] scale
    truth = torch.full((2, 3, 16, 16), 0.2)     # 0.6
    c1 = 0.01**2
    assert paired_scores(fake, truth)["ssim"] == pytest.approx((2 * 0.5 * 0.6 + c1) / (0.5**2 + 0.6**2 + c1))


def test_ssim_falls_with_noise():
    a, b = _pair(1)
    noisier = (b + 0.3 * torch.randn(b.shape, generator=torch.Generator().manual_seed(9), dtype=b.dtype)).clamp(-1, 1)
    assert 1 > paired_scores(a, b)["ssim"] > paired_scores(a, noisier)["ssim"]


def test_single_images_and_shape_errors():
    a, b = _pair(2, (1, 20, 20))
    assert paired_scores(a, b) == pytest.approx(paired_scores(a[None], b[None]))
    with pytest.raises(ValueError, match=r"same shape"):
        paired_scores(a, b[:, :10])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_scores_equal_cpu_scores():
    a, b = (t.float() for t in _pair(3))
    cpu, gpu = paired_scores(a, b), paired_scores(a.cuda(), b.cuda())
    assert gpu == pytest.approx(cpu, rel=1e-4)


def test_identity_mapping_scores_worse_than_the_true_translation_on_toy_horse2zebra(tmp_path):
    root = make_toy("toy-horse2zebra", tmp_path / "h2z", n=40, size=32, seed=0, progress=False)
    test = open_dataset(root, ("unpaired",), phase="test", load_size=32, crop_size=32)
    batch = [test[i] for i in range(len(test))]
    real_a = torch.stack([item["A"] for item in batch])
    truth = torch.stack([item["A_truth"] for item in batch])
    near = (truth + 0.05 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    identity, close, exact = paired_scores(real_a, truth), paired_scores(near, truth), paired_scores(truth, truth)
    assert identity["l1"] > close["l1"] > exact["l1"] == 0
    assert identity["psnr"] < close["psnr"] < exact["psnr"]
    assert identity["ssim"] < close["ssim"] < exact["ssim"]
    assert 0.05 < identity["l1"] < 0.6 and identity["psnr"] < 25


def _on_white(colours, side=16, box=8):
    """Images in [-1, 1]: a white square with a ``box`` x ``box`` patch of each colour (on the [0, 1] scale)."""
    images = torch.ones(len(colours), 3, side, side)
    for image, colour in zip(images, colours):
        image[:, :box, :box] = torch.tensor(colour)[:, None, None]
    return images * 2 - 1


def test_mean_colours_read_the_foreground_and_spread_is_zero_for_one_colour():
    images = _on_white([(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    assert torch.allclose(mean_colours(images), torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    assert colour_spread(images) == pytest.approx((2 * 0.5**2) ** 0.5)  # each channel's variance 0.25 twice
    same = _on_white([(0.8, 0.3, 0.1)] * 5)
    assert colour_spread(same) == pytest.approx(0.0, abs=1e-6)
    blank = torch.ones(1, 3, 8, 8)  # nothing but white: the mean of all pixels
    assert torch.allclose(mean_colours(blank), torch.ones(1, 3))


def test_dataset_images_count_each_file_once_with_its_truth(tmp_path):
    root = make_toy("toy-horse2zebra", tmp_path / "h2z", n=40, size=32, seed=0, progress=False)
    test = open_dataset(root, ("unpaired",), phase="test", load_size=32, crop_size=32)
    a, b = dataset_images(test, "A"), dataset_images(test, "B")
    n_a, n_b = len(list((root / "testA").iterdir())), len(list((root / "testB").iterdir()))
    assert n_a != n_b and len(test) == max(n_a, n_b)  # the smaller side repeats in the dataset's items
    assert len(a["paths"]) == len(set(a["paths"])) == n_a and a["images"].shape == a["truth"].shape
    assert b["images"].shape[0] == n_b and dataset_images(test, "A", limit=3)["images"].shape[0] == 3
    with pytest.raises(ValueError, match="side"):
        dataset_images(test, "C")


def test_translate_runs_in_eval_mode_in_batches_and_restores_the_mode():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.BatchNorm2d(3)).train()
    x = torch.randn(5, 3, 4, 4)
    out = translate(net, x, batch_size=2)
    assert net.training and out.shape == x.shape and out.dtype == torch.float32
    with torch.no_grad():
        assert torch.allclose(out, net.eval()(x), atol=1e-6)  # running statistics, not each batch's own


def test_ssim_maps_average_to_ssim():
    a, b = _pair(4)
    x, y = (a.float() + 1) / 2, (b.float() + 1) / 2
    maps = ssim_maps(x, y)
    assert maps.shape == (2, 40, 37)
    # scikit-image's mean leaves out a border of 5 pixels (half the 11x11 window)
    assert maps[:, 5:-5, 5:-5].mean().item() == pytest.approx(paired_scores(a, b)["ssim"], abs=1e-5)
    assert torch.allclose(ssim_maps(x, x), torch.ones(2, 40, 37), atol=1e-6)
