"""Image preprocessors applied while a data set is loaded (the template's ``SimplePreprocessor``)."""
import cv2
import numpy as np


class SimplePreprocessor:
    """Resize an image to a fixed ``width x height``, ignoring the aspect ratio.

    ``inter`` is the OpenCV interpolation (``cv2.INTER_AREA`` suits shrinking).
    The image keeps its channel order and ``uint8`` type.
    """

    def __init__(self, width, height, inter=cv2.INTER_AREA):
        for name, value in (("width", width), ("height", height)):
            if int(value) != value or value < 1:
                raise ValueError(f"SimplePreprocessor: {name} must be a positive integer, got {value!r}")
        self.width = int(width)
        self.height = int(height)
        self.inter = inter

    def preprocess(self, image):
        image = np.asarray(image)
        if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
            raise ValueError(f"SimplePreprocessor: expected an H x W (x C) image, got shape {image.shape}")
        return cv2.resize(image, (self.width, self.height), interpolation=self.inter)
