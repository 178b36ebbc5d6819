"""The process around the product: the composition root (`build.py`), logging, and `papishares run`'s supervisor."""
