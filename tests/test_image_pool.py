"""ImagePool: the reference's query semantics, reproducibility and resume."""

from collections import Counter

import pytest
import torch

from cyclegan_lite.image_pool import ImagePool


def tagged(start: int, n: int) -> torch.Tensor:
    """A batch of n 1x2x2 images, image i filled with the value start + i (its tag)."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def tags(images) -> list[int]:
    return [int(image.flatten()[0]) for image in images]


def test_size_zero_returns_the_input():
    images = torch.randn(3, 1, 2, 2, requires_grad=True)
    assert ImagePool(0).query(images) is images


def test_fills_then_returns_each_new_image():
    pool = ImagePool(4)
    images = tagged(0, 3).requires_grad_(True)
    out = pool.query(images)
    assert tags(out) == [0, 1, 2] and not out.requires_grad
    out = pool.query(tagged(3, 1))
    assert tags(out) == [3] and len(pool) == 4


def test_stored_images_are_clones():
    pool = ImagePool(2)
    images = tagged(0, 2)
    pool.query(images)
    images.fill_(99)
    assert sorted(tags(pool.images)) == [0, 1]


def test_full_pool_swaps_half_the_time_and_loses_nothing():
    pool = ImagePool(50, seed=3)
    pool.query(tagged(0, 50))
    swapped = 0
    for step in range(40):
        before = Counter(tags(pool.images))
        batch = tagged(1000 + 25 * step, 25)
        out = pool.query(batch)
        assert out.shape == batch.shape and len(pool) == 50
        # every returned image is either the new one or came out of the pool, which took its place
        assert Counter(tags(out)) + Counter(tags(pool.images)) == before + Counter(tags(batch))
        swapped += sum(o != b for o, b in zip(tags(out), tags(batch)))
    assert 0.4 < swapped / (40 * 25) < 0.6


def test_same_seed_same_outputs_other_seed_differs():
    def run(seed):
        pool = ImagePool(5, seed=seed)
        return [tags(pool.query(tagged(10 * step, 4))) for step in range(20)]

    assert run(0) == run(0)
    assert run(0) != run(1)


def test_resumed_pool_matches_uninterrupted_pool(tmp_path):
    uninterrupted, first = ImagePool(6, seed=7), ImagePool(6, seed=7)
    for step in range(5):
        assert tags(uninterrupted.query(tagged(10 * step, 3))) == tags(first.query(tagged(10 * step, 3)))
    torch.save(first.state_dict(), tmp_path / "pool.pt")
    resumed = ImagePool(6, seed=123)
    resumed.load_state_dict(torch.load(tmp_path / "pool.pt", weights_only=True))
    for step in range(5, 15):
        expected = uninterrupted.query(tagged(10 * step, 3))
        torch.testing.assert_close(resumed.query(tagged(10 * step, 3)), expected)


def test_state_of_empty_pool_round_trips(tmp_path):
    torch.save(ImagePool(3).state_dict(), tmp_path / "pool.pt")
    pool = ImagePool(3, seed=5)
    pool.load_state_dict(torch.load(tmp_path / "pool.pt", weights_only=True))
    assert len(pool) == 0
    assert tags(pool.query(tagged(0, 2))) == [0, 1]


def test_stored_images_follow_the_query_dtype():
    pool = ImagePool(1, seed=0)
    pool.query(tagged(0, 1))
    out = torch.cat([pool.query(tagged(i, 1).bfloat16()) for i in range(1, 20)])
    assert out.dtype == torch.bfloat16 and 0 in tags(out)


def test_load_rejects_a_different_pool_size():
    state = ImagePool(4).state_dict()
    with pytest.raises(ValueError, match="pool_size 4"):
        ImagePool(50).load_state_dict(state)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_loaded_images_move_to_the_query_device():
    pool = ImagePool(2, seed=0)
    pool.query(tagged(0, 2))
    resumed = ImagePool(2)
    resumed.load_state_dict(pool.state_dict())
    out = torch.cat([resumed.query(tagged(i, 1).cuda()) for i in range(2, 12)])
    assert out.device.type == "cuda" and all(image.device.type == "cuda" for image in resumed.images)
    assert {0, 1} & set(tags(out.cpu()))
