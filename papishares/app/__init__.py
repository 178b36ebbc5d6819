"""The process around the product: the composition root, logging, and `papishares run`'s supervisor."""
