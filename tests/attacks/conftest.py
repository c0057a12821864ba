import pytest

from models import YourModel


@pytest.fixture(scope="session")
def trained(blobs_manager):
    """A small residual CNN trained to 100% on the blobs: the target the attacks must break."""
    net = YourModel(name="target", width=16, height=16, num_classes=3, num_blocks=2, feature_maps=8,
                    batch_norm=True, learning_rate=0.01, batch_size=16, num_epochs=5, patience=None, verbose=False)
    net.fit(blobs_manager)
    return net
