"""RecVis A2 Part 2: CNN building blocks on one image - filter banks, stride, padding, a hand-made
Laplacian, vertical derivatives with ReLU, and max pooling. Shapes are NHWC."""
from __future__ import annotations

from pathlib import Path

from assignment.common import add_common_arguments, data_errors, out_dir, report, write_metrics

HELP = "RecVis A2 Part 2: convolution, stride, padding, Laplacian, ReLU and max pooling on one image"

DESCRIPTIONS = {
    "conv_5x5x10": "10 random 5x5x3 filters, no padding",
    "conv_5x5x10_stride16": "the same kind of bank with stride 16",
    "conv_5x5x10_pad2": "the same kind of bank with 2 pixels of zero padding",
    "laplacian": "Laplacian [[0,1,0],[1,-4,1],[0,1,0]] on R, G and B, summed (padding 1)",
    "minus_abs_laplacian": "- |Laplacian output|",
    "vertical_derivative": "+-[1,0,-1]^T on every channel (two maps)",
    "vertical_derivative_relu": "ReLU of the two derivative maps",
    "max_pool_15": "15x15 max pooling, stride 1",
}


def add_arguments(p):
    p.add_argument("--image", type=Path, default=None,
                   help="the image to filter (the assignment's peppers.png); default: scikit-learn's sample "
                        "photo china.jpg")
    add_common_arguments(p, out="outputs/conv_blocks", seed=0,
                         seed_help="seeds the random filter banks")


def run(args):
    import matplotlib.pyplot as plt

    from coursekit.exercises.conv_blocks import building_blocks, load_image, plot_features

    out = out_dir(args.out)
    with data_errors():
        image, source = load_image(args.image)
    print(f"image: {source}, {image.shape[0]} x {image.shape[1]} x {image.shape[2]}")
    plt.imsave(out / "input.png", image)
    rows, shapes = [], {}
    for name, (in_shape, y) in building_blocks(image, seed=args.seed).items():
        if name == "max_pool_15":  # three colour maps: show them as the colour image they are
            plt.imsave(out / f"{name}.png", y[0].clip(0, 1))
        else:
            plot_features(y, title=DESCRIPTIONS[name], save_path=out / f"{name}.png")
            plt.close("all")
        shapes[name] = list(y.shape)
        rows.append({"step": name, "input_shape": str(in_shape), "output_shape": str(tuple(y.shape)),
                     "what": DESCRIPTIONS[name]})
    report("shapes (NHWC)", rows, out, "shapes")
    write_metrics(out, {"image": source, "shapes": shapes})
    return 0
