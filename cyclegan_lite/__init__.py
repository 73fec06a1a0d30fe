"""cyclegan_lite: the small PyTorch library behind the GAN course.

GAN (Goodfellow et al. 2014), DCGAN (Radford et al. 2016), DiscoGAN (Kim et al. 2017) and CycleGAN
(Zhu et al. 2017): models, losses, data loaders, one training loop and a command line
(``python -m cyclegan_lite --help``).
"""

__version__ = "0.1.0"
