"""How long does each explanation method take for 1,000 digits images on 2 CPU cores?

Prints one row per method: the best of ``--repeats`` timed runs over ``--n`` test images
(after one untimed warm-up call that traces the TensorFlow functions), milliseconds per image
and images per second. Weights do not change the cost, but the model is trained briefly so the
numbers describe a real model.

Usage::

    .venv/bin/python benchmarks/explain_speed.py            # 1,000 images, 2 threads
    .venv/bin/python benchmarks/explain_speed.py --n 200 --repeats 1
"""
import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Each method with the options the notebooks use (the package defaults, spelled out).
CASES = [
    ("saliency", {}),
    ("input_x_gradient", {}),
    ("integrated_gradients", {"steps": 64}),
    ("smoothgrad", {"n_samples": 32}),
    ("vargrad", {"n_samples": 32}),
    ("grad_cam", {}),
    ("occlusion", {"window": 2, "stride": 1}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="images to explain (default 1000)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for TensorFlow")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method")
    parser.add_argument("--slow-n", type=int, default=100,
                        help="images for the model-agnostic methods (SHAP partition, LIME)")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    import nasbook as nb

    nb.set_seed(0)
    ds = nb.load_dataset("digits")
    pool = np.concatenate([ds.x_test, ds.x_val, ds.x_train])
    if args.n > len(pool):
        raise SystemExit(f"--n {args.n} is more than the {len(pool)} digits images available")
    x = pool[:args.n]
    model = nb.models.small_cnn(ds.input_shape, ds.num_classes)
    nb.models.compile_classifier(model, learning_rate=1e-2)
    nb.models.train(model, ds, epochs=3, batch_size=64)

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    print(f"attribution speed: {args.n} digits images (8x8x1), nasbook small_cnn "
          f"({model.count_params():,} parameters)")
    print(f"TensorFlow {tf.__version__}, {args.threads} threads, {cores} CPU cores visible, "
          f"{platform.processor() or platform.machine()}; best of {args.repeats} runs\n")
    print(f"{'method':24s} {'options':26s} {'total (s)':>9s} {'ms/image':>9s} {'images/s':>9s}")

    def timed(fn):
        fn(x[:10])  # warm-up: traces the tf.functions for this model
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn(x)
            best = min(best, time.perf_counter() - start)
        return best

    def row(name, options, seconds):
        opts = ", ".join(f"{k}={v}" for k, v in options.items()) or "-"
        print(f"{name:24s} {opts:26s} {seconds:9.2f} {1000 * seconds / args.n:9.2f} "
              f"{args.n / seconds:9.0f}")

    for method, options in CASES:
        row(method, options,
            timed(lambda xs, m=method, o=options: nb.explain.attribute(model, xs, method=m, **o)))
    row("saliency, every class", {"target": "all"},
        timed(lambda xs: nb.explain.attribute(model, xs, method="saliency", target="all")))

    attr = nb.explain.attribute(model, x, method="saliency")
    row("deletion curve", {"steps": 64},
        timed(lambda xs: nb.explain.deletion_curve(model, xs, attr[:len(xs)], steps=64)))

    row("tree surrogate", {"max_depth": 8},
        timed(lambda xs: nb.explain.tree_surrogate(model, ds.x_train, xs, max_depth=8)))

    # SHAP and LIME cost hundreds of model evaluations per image: timed once on
    # --slow-n images and scaled to --n (printed as such).
    slow = x[:args.slow_n]

    def scaled(fn):
        fn(slow[:2])
        start = time.perf_counter()
        fn(slow)
        return (time.perf_counter() - start) * args.n / len(slow)

    print(f"\n(below: timed once on {len(slow)} images, scaled to {args.n})")
    background = ds.x_train[:100]
    for method, options in [("gradient", {"nsamples": 200}), ("deep", {})]:
        row(f"SHAP {method}", dict(options, background=100),
            scaled(lambda xs, m=method, o=options: nb.explain.explain_shap(
                model, xs, background, method=m, **o)))
    row("SHAP partition", {"max_evals": 500, "fill": 0.0},
        scaled(lambda xs: nb.explain.explain_shap(model, xs, method="partition",
                                                  max_evals=500, fill=0.0)))
    row("LIME", {"num_samples": 500, "segment_size": 2},
        scaled(lambda xs: [nb.explain.explain_lime(model, xi, num_samples=500,
                                                   segment_size=2) for xi in xs]))


if __name__ == "__main__":
    main()
