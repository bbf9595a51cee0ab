"""A weight-sharing supernet over the benchmark space: one set of weights, 324 sub-networks.

Every architecture of :func:`nasbook.bench.bench_space` is ``n_blocks`` blocks of
``Conv1D(filters, kernel, padding="same", activation) [+ shortcut] -> pooling(2)``, then
``Flatten -> Dense(10)`` logits (the shortcut of a residual block is a 1x1 projection when the
widths differ, which happens only in block 1, whose input has one channel). The supernet
holds the widest version of every layer and reads each sub-network out of it:

- **shared conv kernels**: block ``i`` has one ``(7, C_in, 64)`` kernel and a 64-bias. A
  sub-network with ``kernel=k`` and ``filters=f`` uses the centre ``k`` taps and the first
  ``f`` output channels (input channels sliced to match): ``K[(7-k)//2:(7+k)//2, :c, :f]``.
  Every architecture that uses block ``i`` shares that kernel's centre taps and first
  channels.
- **shared projection**: the residual 1x1 projection of block 1, ``(1, 1, 64)``, sliced to
  ``f`` channels.
- **one head per depth**: the flattened length differs with depth (20, 10 or 5 positions),
  so each depth has its own ``(L*64, 10)`` head, shared by all architectures of that depth and
  sliced to their first ``f`` channels at every position. The head reads the last active block.
- **parameter-free switches**: activation, pooling and connection only choose which
  computation is applied; they own no weights. Depth skips the blocks after ``n_blocks``.

Optional BatchNorm (``batchnorm=True``): a normalisation without scale and shift (as in DARTS'
search phase) after each convolution, before the activation. The bench architectures have no
BatchNorm, so :meth:`Supernet.extract` folds it into the convolution's kernel and bias (an
inference-mode BatchNorm is an affine map per channel); the extracted model is still exactly
the bench architecture. Its statistics are shared by all paths unless recalibrated per
sub-network (:meth:`Supernet.recalibrate`), which scoring does by default.

Internally an architecture is a vector of one-hot codes (:func:`encode`); the forward pass
computes the widest layers and applies masks (zeroed kernel taps, zeroed channels, weighted
sums over activations, poolings, connections and depth heads). With one-hot codes this equals
the sliced sub-network exactly; with softmax weights it is DARTS' continuous relaxation.

Usage::

    sn = oneshot.Supernet(input_shape=(40, 1), num_classes=10, seed=0)
    arch = nb.bench.all_configs()[0]
    y = sn.forward(ds.x_val, arch)          # logits of that path
    model = sn.extract(arch)               # a standalone keras.Model: model(x) == y
"""
from __future__ import annotations

import numpy as np

from nasbook.bench.space import DECISIONS, bench_space

__all__ = ["Supernet", "encode", "check_arch", "ArchitectureError", "SEGMENTS", "CODE_SIZE"]

MAX_BLOCKS = max(DECISIONS["n_blocks"])
MAX_FILTERS = max(DECISIONS["filters"])
MAX_KERNEL = max(DECISIONS["kernel"])
POOL = 2
BN_EPS = 1e-3

# Where each decision's code sits in the architecture vector: {decision: (start, stop)}.
SEGMENTS = {}
_start = 0
for _name, _values in DECISIONS.items():
    SEGMENTS[_name] = (_start, _start + len(_values))
    _start += len(_values)
CODE_SIZE = _start
del _start, _name, _values


class ArchitectureError(ValueError):
    """An architecture that is not a member of the benchmark space."""


def check_arch(arch) -> dict:
    """The six decisions of ``arch`` as plain Python values; raises :class:`ArchitectureError`
    naming the valid options. Extra keys (e.g. ``arch_id`` of a table row) are ignored."""
    if hasattr(arch, "to_dict"):
        arch = arch.to_dict()
    if not isinstance(arch, dict):
        raise ArchitectureError(f"an architecture is a dict of the decisions {list(DECISIONS)}, "
                                f"got {type(arch).__name__}")
    missing = [d for d in DECISIONS if d not in arch]
    if missing:
        raise ArchitectureError(f"the architecture lacks {missing}; give all of "
                                f"{ {d: v for d, v in DECISIONS.items()} }")
    out = {}
    for name, values in DECISIONS.items():
        v = arch[name]
        v = v.item() if isinstance(v, np.generic) else v
        if v not in values or isinstance(v, bool):
            raise ArchitectureError(f"{name}={v!r} is not in the benchmark space; the valid "
                                    f"values of {name} are {values}")
        out[name] = values[values.index(v)]
    return out


def encode(arch) -> np.ndarray:
    """The architecture as a float32 vector of one-hot codes, laid out as :data:`SEGMENTS`."""
    arch = check_arch(arch)
    code = np.zeros(CODE_SIZE, dtype="float32")
    for name, values in DECISIONS.items():
        code[SEGMENTS[name][0] + values.index(arch[name])] = 1.0
    return code


def _lengths(length):
    """Sequence length after each block's pooling (``padding="same"``: ceil division)."""
    out = []
    for _ in range(MAX_BLOCKS):
        length = -(-length // POOL)
        out.append(length)
    return out


class Supernet:
    """The weight-sharing supernet of the benchmark space (see the module docstring).

    Args:
        input_shape: ``(length, channels)`` of one example; the benchmark uses ``(40, 1)``.
        num_classes: number of logits.
        seed: seeds the initialisation (Keras' defaults: Glorot-uniform kernels at the widest
            shape, zero biases).
        batchnorm: add scale-free BatchNorm after each convolution (folded away on extract).

    Attributes: ``kernels[i]`` ``(7, C_in, 64)``, ``biases[i]``, ``projection_kernel``
    ``(1, 1, 64)``, ``projection_bias``, ``head_kernels[d]`` ``(L_d*64, classes)``,
    ``head_biases[d]``, ``bn_mean[i]`` / ``bn_var[i]`` (non-trainable); ``weights`` lists the
    trainable ones.
    """

    def __init__(self, input_shape=(40, 1), num_classes=10, seed=0, *, batchnorm=False):
        import keras

        self.input_shape = tuple(int(d) for d in input_shape)
        if len(self.input_shape) != 2:
            raise ValueError(f"input_shape must be (length, channels), e.g. (40, 1), "
                             f"got {input_shape!r}")
        self.num_classes = int(num_classes)
        self.seed = seed
        self.batchnorm = bool(batchnorm)
        length, channels = self.input_shape
        self.lengths = _lengths(length)
        glorot = keras.initializers.GlorotUniform
        s = 0 if seed is None else int(seed) * 1000

        def var(shape, init, name, trainable=True):
            return keras.Variable(init(shape), name=name, trainable=trainable)

        zeros = keras.initializers.Zeros()
        ones = keras.initializers.Ones()
        self.kernels, self.biases, self.bn_mean, self.bn_var = [], [], [], []
        for i in range(MAX_BLOCKS):
            c_in = channels if i == 0 else MAX_FILTERS
            self.kernels.append(var((MAX_KERNEL, c_in, MAX_FILTERS), glorot(seed=s + i),
                                    f"conv_{i + 1}_kernel"))
            self.biases.append(var((MAX_FILTERS,), zeros, f"conv_{i + 1}_bias"))
            self.bn_mean.append(var((MAX_FILTERS,), zeros, f"bn_{i + 1}_mean", False))
            self.bn_var.append(var((MAX_FILTERS,), ones, f"bn_{i + 1}_var", False))
        self.projection_kernel = var((1, channels, MAX_FILTERS), glorot(seed=s + 10),
                                     "projection_kernel")
        self.projection_bias = var((MAX_FILTERS,), zeros, "projection_bias")
        self.head_kernels, self.head_biases = [], []
        for d, n in enumerate(self.lengths):
            self.head_kernels.append(var((n * MAX_FILTERS, self.num_classes),
                                         glorot(seed=s + 20 + d), f"head_{d + 1}_kernel"))
            self.head_biases.append(var((self.num_classes,), zeros, f"head_{d + 1}_bias"))
        self.weights = [*self.kernels, *self.biases, self.projection_kernel,
                        self.projection_bias, *self.head_kernels, *self.head_biases]
        self._masks()

    def _masks(self):
        f = np.array([[1.0 if c < v else 0.0 for c in range(MAX_FILTERS)]
                      for v in DECISIONS["filters"]], dtype="float32")
        k = np.array([[1.0 if abs(t - MAX_KERNEL // 2) <= v // 2 else 0.0
                       for t in range(MAX_KERNEL)] for v in DECISIONS["kernel"]],
                     dtype="float32")
        self._filter_masks, self._kernel_masks = f, k

    _STATE = ("kernels", "biases", "bn_mean", "bn_var", "projection_kernel", "projection_bias",
              "head_kernels", "head_biases")

    def state(self) -> dict:
        """The current weights and BatchNorm statistics as a dict of (lists of) tensors, which
        :meth:`call_code` of :meth:`view` accepts; lets one compiled function serve every
        supernet of the same shape."""
        import tensorflow as tf

        def t(v):
            return [tf.convert_to_tensor(u) for u in v] if isinstance(v, list) \
                else tf.convert_to_tensor(v)
        return {k: t(getattr(self, k)) for k in self._STATE}

    def view(self, state: dict) -> "Supernet":
        """A shallow copy of this supernet whose weights are the tensors of ``state``."""
        other = object.__new__(Supernet)
        other.__dict__.update(self.__dict__)
        other.__dict__.update(state)
        return other

    # --- the forward pass (TensorFlow ops; code may be one-hot or softmax weights) ----------
    def call_code(self, x, code, *, stats="moving", return_moments=False, depth=None,
                  width=None, one_hot=False):
        """Logits for a batch ``x`` and an architecture code (one-hot or relaxed, length
        :data:`CODE_SIZE`). ``stats``: ``"batch"`` (BatchNorm on this batch's statistics, as
        in training), ``"moving"`` (the stored statistics) or a list of ``(mean, var)`` per
        block. With ``return_moments`` also returns the batch moments of every block.

        ``depth`` and ``width`` (Python ints, optional) skip computation the code does not
        use: blocks after ``depth`` and channels after ``width`` (both must cover the code's
        one-hot ``n_blocks`` and ``filters``); the result is the same, only cheaper. So does
        ``one_hot=True`` for a one-hot code: only the chosen activation and pooling run."""
        import tensorflow as tf

        x = tf.convert_to_tensor(x, dtype=tf.float32)
        code = tf.convert_to_tensor(code, dtype=tf.float32)
        seg = {n: code[a:b] for n, (a, b) in SEGMENTS.items()}
        chan = tf.linalg.matvec(self._filter_masks, seg["filters"], transpose_a=True)
        taps = tf.linalg.matvec(self._kernel_masks, seg["kernel"], transpose_a=True)
        wa, wp, wc, wn = seg["activation"], seg["pooling"], seg["connection"], seg["n_blocks"]
        w = MAX_FILTERS if width is None else int(width)
        chan = chan[:w]
        h = x
        logits = 0.0
        moments = []
        for i in range(MAX_BLOCKS if depth is None else int(depth)):
            c_in = self.input_shape[1] if i == 0 else w
            kernel = self.kernels[i][:, :c_in, :w] * taps[:, None, None]
            z = tf.nn.conv1d(h, kernel, stride=1, padding="SAME") + self.biases[i][:w]
            if self.batchnorm:
                if isinstance(stats, str) and stats == "batch":
                    mean, var = tf.nn.moments(z, axes=[0, 1])
                elif isinstance(stats, str):
                    mean, var = self.bn_mean[i][:w], self.bn_var[i][:w]
                else:
                    mean, var = stats[i][0][:w], stats[i][1][:w]
                moments.append((mean, var))
                z = (z - mean) * tf.math.rsqrt(var + BN_EPS)
            if one_hot:
                a = tf.switch_case(tf.argmax(wa, output_type=tf.int32),
                                   [lambda: tf.nn.relu(z), lambda: tf.tanh(z),
                                    lambda: tf.sigmoid(z)]) * chan
            else:
                a = (wa[0] * tf.nn.relu(z) + wa[1] * tf.tanh(z)
                     + wa[2] * tf.sigmoid(z)) * chan
            if i == 0:
                shortcut = (tf.nn.conv1d(h, self.projection_kernel[:, :, :w], 1, "SAME")
                            + self.projection_bias[:w]) * chan
            else:
                shortcut = h
            y = a + wc[1] * shortcut
            if one_hot:
                h = tf.switch_case(tf.argmax(wp, output_type=tf.int32),
                                   [lambda: tf.nn.max_pool1d(y, POOL, POOL, "SAME"),
                                    lambda: tf.nn.avg_pool1d(y, POOL, POOL, "SAME")])
            else:
                h = (wp[0] * tf.nn.max_pool1d(y, POOL, POOL, "SAME")
                     + wp[1] * tf.nn.avg_pool1d(y, POOL, POOL, "SAME"))
            flat = tf.reshape(h, [tf.shape(h)[0], -1])
            head = self.head_kernels[i]
            if w < MAX_FILTERS:
                head = tf.reshape(tf.reshape(head, [self.lengths[i], MAX_FILTERS, -1])[:, :w],
                                  [self.lengths[i] * w, -1])
            logits = logits + wn[i] * (tf.matmul(flat, head) + self.head_biases[i])
        if return_moments:
            return logits, moments
        return logits

    def forward(self, x, arch, training=False):
        """Logits of the sub-network ``arch`` (a dict of the six decisions) on ``x``.

        ``training=True`` normalises with the batch's own statistics (BatchNorm only)."""
        return self.call_code(x, encode(arch), stats="batch" if training else "moving",
                              one_hot=True)

    def mixed_forward(self, x, weights, training=False):
        """Logits of the continuous relaxation: ``weights`` maps each decision to a vector of
        non-negative weights over its values (e.g. a softmax), as in DARTS."""
        code = np.zeros(CODE_SIZE, dtype="float32")
        for name, (a, b) in SEGMENTS.items():
            w = np.asarray(weights[name], dtype="float32")
            if w.shape != (b - a,):
                raise ValueError(f"weights[{name!r}] needs {b - a} entries (one per value of "
                                 f"{DECISIONS[name]}), got shape {w.shape}")
            code[a:b] = w
        return self.call_code(x, code, stats="batch" if training else "moving")

    # --- BatchNorm statistics per sub-network ------------------------------------------------
    def path_moments(self, x, arch):
        """BatchNorm statistics ``[(mean, var)]`` per block of sub-network ``arch`` on ``x``."""
        if not self.batchnorm:
            return []
        _, moments = self.call_code(x, encode(arch), stats="batch", return_moments=True)
        return [(m.numpy(), v.numpy()) for m, v in moments]

    def recalibrate(self, arch, x):
        """Set the stored BatchNorm statistics to those of sub-network ``arch`` on ``x`` (a few
        hundred training examples), so that ``forward`` and ``extract`` use them."""
        for i, (m, v) in enumerate(self.path_moments(x, arch)):
            self.bn_mean[i].assign(m)
            self.bn_var[i].assign(v)

    # --- extraction ------------------------------------------------------------------------
    def sub_weights(self, arch) -> dict:
        """The sliced (and BatchNorm-folded) weights of ``arch``: ``{layer name: [arrays]}``,
        named as :func:`nasbook.bench.bench_space` names its layers."""
        arch = check_arch(arch)
        f, k, n = arch["filters"], arch["kernel"], arch["n_blocks"]
        lo = (MAX_KERNEL - k) // 2
        out = {}
        for i in range(n):
            c = self.input_shape[1] if i == 0 else f
            kernel = np.asarray(self.kernels[i])[lo:lo + k, :c, :f]
            bias = np.asarray(self.biases[i])[:f]
            if self.batchnorm:
                scale = 1.0 / np.sqrt(np.asarray(self.bn_var[i])[:f] + BN_EPS)
                kernel = kernel * scale
                bias = (bias - np.asarray(self.bn_mean[i])[:f]) * scale
            out[f"conv_{i + 1}"] = [kernel, bias]
        if arch["connection"] == "residual" and self.input_shape[1] != f:
            out["projection_1"] = [np.asarray(self.projection_kernel)[:, :, :f],
                                   np.asarray(self.projection_bias)[:f]]
        length = self.lengths[n - 1]
        head = np.asarray(self.head_kernels[n - 1]).reshape(length, MAX_FILTERS, -1)
        out["logits"] = [head[:, :f, :].reshape(length * f, -1),
                         np.asarray(self.head_biases[n - 1])]
        return out

    def extract(self, arch):
        """A standalone Keras model of ``arch``, built by the benchmark's own builder
        (:meth:`SearchSpace.build_model`, compiled with the benchmark recipe) and given copies
        of the supernet's sliced weights. ``model(x)`` equals ``forward(x, arch)``."""
        weights = self.sub_weights(arch)
        space = bench_space(self.input_shape, self.num_classes)
        model = space.build_model(check_arch(arch))
        names = {layer.name for layer in model.layers if layer.weights}
        if names != set(weights):
            raise RuntimeError(f"the benchmark builder made layers {sorted(names)} but the "
                               f"supernet sliced {sorted(weights)}; the two have diverged")
        for name, arrays in weights.items():
            model.get_layer(name).set_weights(arrays)
        return model

    def __repr__(self):
        n = sum(int(np.prod(v.shape)) for v in self.weights)
        return (f"Supernet(input_shape={self.input_shape}, num_classes={self.num_classes}, "
                f"batchnorm={self.batchnorm}, shared weights={n:,}, sub-networks=324)")
