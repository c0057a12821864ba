"""Data sources: folder-per-class image sets, the embedded digits set, Fashion-MNIST."""
