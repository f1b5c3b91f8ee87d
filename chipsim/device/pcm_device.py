"""The resolved PCM device model (:class:`PCMDevice`) and its factory (:func:`make_device`).

A :class:`PCMDevice` holds every parameter of one statistical device model as a concrete
number and applies the laws shared by both models of IBM aihwkit
(``src/aihwkit/inference/noise/pcm.py`` and ``hermes.py``, [AK]; ``shared/hermes.md`` §6):

- programming: ``g_prog = max(g_T + prog_noise_scale · σ_p(g_T) · N(0, 1), 0)``;
- drift exponent: ``ν = |μν(g_T) + σν(g_T) · N(0, 1)| · drift_scale`` (from the TARGET);
- drift: ``g(t) = g_prog · ((t + t0) / t0)^(-ν)``, ``t`` = time since programming
  (aihwkit's ``t_inference``);
- 1/f read noise: ``σ_r = read_noise_scale · Q(g_prog) · sqrt(ln((t + t0 + t_read) / (2 t_read)))``
  and one read is ``max(g(t) + |g(t)| · σ_r · N(0, 1), 0)``.

The model-specific fits (σ_p, μν, σν, Q) are in :mod:`chipsim.device.pcm_like` and
:mod:`chipsim.device.hermes`. Conductances are in µS, times in s.

Elements
    All methods act on ELEMENT conductances. An element is one independent physical unit:
    for ``PCM_LIKE`` each of the ``devices_per_polarity`` devices (the caller programs each to
    ``target / elements`` and adds their conductances); for ``HERMES`` always one element per
    polarity, whose statistics are the fitted ones of the 1- or 2-device unit cell (aihwkit
    models the two-device pair the same way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..spec import DeviceModel, DeviceSpec, SpecError
from . import hermes, pcm_like

__all__ = ["PCMDevice", "make_device"]

_ZERO_CLIP = 1e-7
"""Lower clip of ``|g| / g_max`` before logarithms (aihwkit's ``_ZERO_CLIP``)."""


# --------------------------------------------------------------------------- validation
def _conductance(x: object, name: str) -> np.ndarray:
    """``x`` as a float64 array; ValueError naming ``name`` unless finite and >= 0."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: must be real conductances (µS), got {x!r}") from exc
    if arr.size and not (arr.min() >= 0.0 and arr.max() < math.inf):  # False for NaN too
        raise ValueError(f"{name}: conductances (µS) must be finite and >= 0, got values in "
                         f"[{arr.min()}, {arr.max()}]")
    return arr


def _exponent(x: object) -> np.ndarray:
    """Drift exponents ``nu`` as a float64 array; ValueError unless finite and >= 0."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"nu: must be real drift exponents, got {x!r}") from exc
    if arr.size and not (arr.min() >= 0.0 and arr.max() < math.inf):
        raise ValueError(f"nu: drift exponents must be finite and >= 0, got values in "
                         f"[{arr.min()}, {arr.max()}]")
    return arr


def _time(t_s: object) -> float:
    """``t_s`` as a float; ValueError unless a finite number >= 0."""
    try:
        t = float(t_s)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"t_s: time since programming must be a number (s), got {t_s!r}") \
            from exc
    if not (math.isfinite(t) and t >= 0.0):
        raise ValueError(f"t_s: time since programming must be finite and >= 0 s, got {t_s!r}")
    return t


def _generator(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True, slots=True)
class PCMDevice:
    """One resolved device model: every parameter concrete.

    Build it with :func:`make_device`. Every method takes float arrays of any shape (or
    scalars), validates them and returns float64 arrays (0-d for scalar inputs); random
    numbers come only from the ``rng`` passed in.

    Attributes
    ----------
    model : DeviceModel
        Which fit: ``PCM_LIKE`` or ``HERMES``.
    elements : int
        Independent physical elements modelled per weight polarity: ``PCM_LIKE``:
        ``devices_per_polarity`` (each programmed to ``target / elements``, conductances add);
        ``HERMES``: always 1 (the pair is one fitted element).
    g_max_us : float
        Maximum conductance of one ELEMENT (µS); ``gr = g / g_max_us``.
    t0_s : float
        Time of the programming reference read (s), origin of the drift law.
    t_read_s : float
        Parameter of the 1/f read-noise fit (s).
    prog_noise_scale, read_noise_scale, drift_scale : float
        Multipliers on the programming σ, the read σ and the drift exponents.
    devices_per_polarity : int
        Physical PCM devices per weight polarity (1 = ODP, 2 = TDP); selects the ``HERMES``
        fits and equals ``elements`` for ``PCM_LIKE``.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.spec import DeviceSpec
    >>> dev = make_device(DeviceSpec(), devices_per_polarity=2)
    >>> dev.model.value, dev.elements, dev.g_max_us, dev.t0_s
    ('hermes', 1, 20.7, 300.0)
    >>> rng = np.random.default_rng(0)
    >>> g_prog = dev.program(np.full(3, 10.0), rng)
    >>> nu = dev.draw_nu(np.full(3, 10.0), rng)
    >>> bool(np.all(dev.drift(g_prog, nu, 3600.0) < g_prog))
    True
    """

    model: DeviceModel
    elements: int
    g_max_us: float
    t0_s: float
    t_read_s: float
    prog_noise_scale: float
    read_noise_scale: float
    drift_scale: float
    devices_per_polarity: int

    def __post_init__(self) -> None:
        if not isinstance(self.model, DeviceModel):
            raise SpecError("device.model", f"must be one of {[m.value for m in DeviceModel]}, "
                            f"got {self.model!r}")
        d = self.devices_per_polarity
        if isinstance(d, bool) or d not in (1, 2):
            raise SpecError("core.devices_per_polarity", f"must be 1 or 2, got {d!r}")
        want = d if self.model is DeviceModel.PCM_LIKE else 1
        if self.elements != want:
            raise SpecError("device.elements", f"must be {want} for {self.model.value} with "
                            f"{d} device(s) per polarity, got {self.elements!r}")
        for name in ("g_max_us", "t0_s", "t_read_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise SpecError(f"device.{name}", f"must be a finite number > 0, got {value!r}")
        for name in ("prog_noise_scale", "read_noise_scale", "drift_scale"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise SpecError(f"device.{name}", f"must be a finite number >= 0, got {value!r}")
        if self.model is DeviceModel.HERMES and self.g_max_us > hermes.G_MAX_US[d]:
            raise SpecError(
                "device.g_max_us",
                f"{self.g_max_us} µS is above the characterised maximum of the hermes model "
                f"with {d} device(s) per polarity; allowed: 0 < g_max_us <= "
                f"{hermes.G_MAX_US[d]} µS (aihwkit asserts the same) [AK]")
        if self.t0_s < self.t_read_s:
            raise SpecError("device.t0_s", f"must be >= t_read_s ({self.t_read_s} s) so the 1/f "
                            f"read-noise logarithm is >= 0, got {self.t0_s}")

    # ---------------------------------------------------------------- derived
    @property
    def polarity_g_max_us(self) -> float:
        """Conductance (µS) of one polarity that max|W| of a core maps to: ``g_max_us · elements``.

        Examples
        --------
        >>> from chipsim.spec import DeviceModel, DeviceSpec
        >>> dev = make_device(DeviceSpec(model=DeviceModel.PCM_LIKE), 2)
        >>> dev.g_max_us, dev.elements, dev.polarity_g_max_us  # two devices share the range
        (12.5, 2, 25.0)
        """
        return self.g_max_us * self.elements

    # ---------------------------------------------------------------- private (no validation)
    def _prog_sigma(self, g_target: np.ndarray) -> np.ndarray:
        gr = g_target / self.g_max_us
        if self.model is DeviceModel.PCM_LIKE:
            sigma = pcm_like.prog_sigma_us(gr, self.g_max_us)
        else:
            sigma = hermes.prog_sigma_us(gr, self.g_max_us, self.devices_per_polarity)
        return self.prog_noise_scale * sigma

    def _drift_stats(self, g_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gr = np.maximum(g_target / self.g_max_us, _ZERO_CLIP)
        if self.model is DeviceModel.PCM_LIKE:
            return pcm_like.nu_stats(gr)
        return hermes.nu_stats(gr, self.devices_per_polarity)

    def _read_q(self, g_prog: np.ndarray) -> np.ndarray:
        gr_p = np.maximum(g_prog / self.g_max_us, _ZERO_CLIP)
        if self.model is DeviceModel.PCM_LIKE:
            return pcm_like.read_q(gr_p)
        return hermes.read_q(gr_p, self.devices_per_polarity)

    def _drift(self, g_prog: np.ndarray, nu: np.ndarray, t: float) -> np.ndarray:
        if t == 0.0:  # 1 ** (-nu) is exactly 1: the same values without the power
            return g_prog * np.ones(np.broadcast_shapes(np.shape(g_prog), np.shape(nu)))
        return g_prog * ((t + self.t0_s) / self.t0_s) ** (-nu)

    def _sigma_scale(self, t: float) -> float:
        # aihwkit: t_total = t_inference + t0 inside the log (hermes.md §6 writes plain t)
        time_factor = math.sqrt(math.log((t + self.t0_s + self.t_read_s) / (2.0 * self.t_read_s)))
        return self.read_noise_scale * time_factor

    def _read_sigma_rel(self, g_prog: np.ndarray, t: float) -> np.ndarray:
        return self._sigma_scale(t) * self._read_q(g_prog)

    # ---------------------------------------------------------------- public
    def prog_sigma_us(self, g_target: np.ndarray) -> np.ndarray:
        """σ (µS) of the Gaussian programming error, ``prog_noise_scale`` included.

        Parameters
        ----------
        g_target : array_like
            Target element conductances (µS), finite and >= 0.

        Returns
        -------
        ndarray
            ``prog_noise_scale · σ_p(g_target / g_max_us)`` (µS), float64, same shape.

        Examples
        --------
        >>> from chipsim.spec import DeviceSpec
        >>> dev = make_device(DeviceSpec(), 1)
        >>> round(float(dev.prog_sigma_us(0.0)), 8)
        0.15781817
        """
        g = _conductance(g_target, "g_target")
        return np.asarray(self._prog_sigma(g), dtype=np.float64)

    def program(self, g_target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Programmed conductances: ``max(g_T + prog_noise_scale · σ_p · N(0, 1), 0)``.

        Parameters
        ----------
        g_target : array_like
            Target element conductances (µS), finite and >= 0.
        rng : numpy.random.Generator
            Source of the normal draws (one per element).

        Returns
        -------
        ndarray
            ``g_prog`` (µS, >= 0), float64, same shape.

        Examples
        --------
        >>> import numpy as np
        >>> from chipsim.spec import DeviceSpec
        >>> dev = make_device(DeviceSpec(prog_noise_scale=0.0), 2)
        >>> dev.program([0.0, 5.0], np.random.default_rng(1)).tolist()
        [0.0, 5.0]
        """
        g = _conductance(g_target, "g_target")
        rng = _generator(rng)
        noise = rng.standard_normal(g.shape)
        out = np.asarray(g + self._prog_sigma(g) * noise, dtype=np.float64)
        return np.maximum(out, 0.0, out=out)

    def drift_stats(self, g_target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mu_nu, sigma_nu)`` of the drift exponent's normal, BEFORE ``drift_scale``.

        ``ν = |N(mu_nu, sigma_nu)| · drift_scale`` (a folded normal), from the TARGET conductance
        with ``gr = max(g_target / g_max_us, 1e-7)``.

        Parameters
        ----------
        g_target : array_like
            Target element conductances (µS), finite and >= 0.

        Returns
        -------
        (ndarray, ndarray)
            float64 arrays of the shape of ``g_target``.

        Examples
        --------
        >>> from chipsim.spec import DeviceModel, DeviceSpec
        >>> dev = make_device(DeviceSpec(model=DeviceModel.PCM_LIKE), 1)
        >>> [round(float(v), 4) for v in dev.drift_stats(0.25)]
        [0.0958, 0.045]
        """
        g = _conductance(g_target, "g_target")
        mu, sigma = self._drift_stats(g)
        return np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)

    def draw_nu(self, g_target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Drift exponents ``ν = |mu_nu + sigma_nu · N(0, 1)| · drift_scale``.

        Parameters
        ----------
        g_target : array_like
            Target element conductances (µS), finite and >= 0.
        rng : numpy.random.Generator
            Source of the normal draws (one per element).

        Returns
        -------
        ndarray
            ``ν >= 0``, float64, same shape.

        Examples
        --------
        >>> import numpy as np
        >>> from chipsim.spec import DeviceSpec
        >>> nu = make_device(DeviceSpec(), 2).draw_nu(np.full(1000, 10.0), np.random.default_rng(0))
        >>> 0.04 < float(nu.mean()) < 0.07
        True
        """
        g = _conductance(g_target, "g_target")
        rng = _generator(rng)
        mu, sigma = self._drift_stats(g)
        nu = np.abs(mu + sigma * rng.standard_normal(g.shape))
        return np.asarray(nu * self.drift_scale, dtype=np.float64)

    def drift(self, g_prog: np.ndarray, nu: np.ndarray, t_s: float) -> np.ndarray:
        """Drifted conductance ``g(t) = g_prog · ((t + t0) / t0)^(-ν)`` (deterministic).

        Parameters
        ----------
        g_prog : array_like
            Programmed element conductances (µS), finite and >= 0.
        nu : array_like
            Drift exponents (finite, >= 0), broadcastable with ``g_prog``.
        t_s : float
            Time since programming (s), >= 0; ``t_s = 0`` returns ``g_prog``.

        Returns
        -------
        ndarray
            ``g(t)`` (µS), float64, shape of ``g_prog`` broadcast with ``nu``.

        Examples
        --------
        >>> from chipsim.spec import DeviceSpec
        >>> dev = make_device(DeviceSpec(), 2)  # t0 = 300 s
        >>> float(dev.drift(10.0, 0.05, 0.0)), round(float(dev.drift(10.0, 0.05, 2700.0)), 4)
        (10.0, 8.9125)
        """
        g = _conductance(g_prog, "g_prog")
        nu_arr = _exponent(nu)
        t = _time(t_s)
        return np.asarray(self._drift(g, nu_arr, t), dtype=np.float64)

    def read_sigma_scale(self, t_s: float) -> float:
        """The factor of ``Q`` in :meth:`read_sigma_rel` at ``t_s``: ``read_noise_scale ·
        sqrt(ln((t_s + t0 + t_read) / (2 t_read)))``, so that ``read_sigma_rel(g, t) ==
        read_sigma_scale(t) * read_q(g)`` bit for bit (a caller that keeps ``Q`` of fixed
        conductances computes it once).

        Examples
        --------
        >>> from chipsim.spec import DeviceSpec
        >>> dev = make_device(DeviceSpec(), 2)
        >>> bool(dev.read_sigma_scale(60.0) * dev.read_q(20.7) == dev.read_sigma_rel(20.7, 60.0))
        True
        """
        return self._sigma_scale(_time(t_s))

    def read_q(self, g_prog: np.ndarray) -> np.ndarray:
        """1/f read-noise amplitude ``Q`` of the model, from ``gr_p = g_prog / g_max_us``.

        Parameters
        ----------
        g_prog : array_like
            Programmed element conductances (µS), finite and >= 0.

        Returns
        -------
        ndarray
            ``Q`` (dimensionless, ``read_noise_scale`` NOT included), float64, same shape.

        Examples
        --------
        >>> from chipsim.spec import DeviceSpec
        >>> round(float(make_device(DeviceSpec(), 2).read_q(20.7)), 4)
        0.0123
        """
        g = _conductance(g_prog, "g_prog")
        return np.asarray(self._read_q(g), dtype=np.float64)

    def read_sigma_rel(self, g_prog: np.ndarray, t_s: float) -> np.ndarray:
        """Relative σ of one read at time ``t_s``:
        ``read_noise_scale · Q · sqrt(ln((t_s + t0 + t_read) / (2 t_read)))``.

        aihwkit evaluates the logarithm at ``t_total = t_inference + t0`` (the time since the
        start of programming, the origin of the 1/f noise accumulation), so ``t_s = 0`` gives a
        nonzero σ. A read is ``g(t) + |g(t)| · σ_r · N(0, 1)``, clamped at 0.

        Parameters
        ----------
        g_prog : array_like
            Programmed element conductances (µS), finite and >= 0 (``Q`` depends on them).
        t_s : float
            Time since programming (s), >= 0.

        Returns
        -------
        ndarray
            σ_r (dimensionless), float64, same shape as ``g_prog``.

        Examples
        --------
        >>> from chipsim.spec import DeviceSpec
        >>> round(float(make_device(DeviceSpec(), 2).read_sigma_rel(20.7, 0.0)), 4)
        0.0543
        """
        g = _conductance(g_prog, "g_prog")
        t = _time(t_s)
        return np.asarray(self._read_sigma_rel(g, t), dtype=np.float64)

    def read(self, g_prog: np.ndarray, nu: np.ndarray, t_s: float,
             rng: np.random.Generator) -> np.ndarray:
        """One noisy read of every element: ``max(g(t) + |g(t)| · σ_r · N(0, 1), 0)``.

        Parameters
        ----------
        g_prog : array_like
            Programmed element conductances (µS), finite and >= 0.
        nu : array_like
            Drift exponents (finite, >= 0), broadcastable with ``g_prog``.
        t_s : float
            Time since programming (s), >= 0.
        rng : numpy.random.Generator
            Source of the normal draws (one per element, drawn even when
            ``read_noise_scale = 0`` so the stream does not depend on it).

        Returns
        -------
        ndarray
            Read conductances (µS, >= 0), float64, shape of ``g_prog`` broadcast with ``nu``.

        Examples
        --------
        >>> import numpy as np
        >>> from chipsim.spec import DeviceSpec
        >>> dev = make_device(DeviceSpec(read_noise_scale=0.0), 2)
        >>> float(dev.read(10.0, 0.05, 0.0, np.random.default_rng(0)))
        10.0
        """
        g = _conductance(g_prog, "g_prog")
        nu_arr = _exponent(nu)
        t = _time(t_s)
        rng = _generator(rng)
        g_t = np.asarray(self._drift(g, nu_arr, t), dtype=np.float64)
        sigma = self._read_sigma_rel(g, t)
        out = g_t + np.abs(g_t) * sigma * rng.standard_normal(g_t.shape)
        out = np.asarray(out, dtype=np.float64)
        return np.maximum(out, 0.0, out=out)


def make_device(spec: DeviceSpec, devices_per_polarity: int) -> PCMDevice:
    """Resolve a :class:`~chipsim.spec.DeviceSpec` for a core's devices per polarity.

    ``None`` fields take the model's characterised defaults [AK]:

    ============  =======================================  ===================
    field         ``PCM_LIKE``                           ``HERMES`` (2 / 1)
    ============  =======================================  ===================
    g_max_us      25 per polarity (each device: 25/devices)  20.7 / 10.35
    t0_s          20                                     300 / 200
    t_read_s      250e-9                                 512e-9
    ============  =======================================  ===================

    ``spec.g_max_us`` is PER POLARITY: for ``PCM_LIKE`` with 2 devices each element gets half.
    The ``PCM_LIKE`` default keeps aihwkit's 25 µS as the polarity range whatever the device
    count, so line currents (and the ADC range they need) do not change with TDP/ODP; two
    devices each programmed to half the target average their errors (aihwkit scales the
    programming σ with the element's range). The hermes fit instead has a characterised pair
    range of twice the single device's (20.7 vs 10.35 µS).

    Parameters
    ----------
    spec : DeviceSpec
        The device specification.
    devices_per_polarity : {1, 2}
        PCM devices per weight polarity (``CoreSpec.devices_per_polarity``).

    Returns
    -------
    PCMDevice

    Raises
    ------
    SpecError
        ``core.devices_per_polarity`` not 1 or 2; ``device.g_max_us`` above the hermes
        characterised maximum (20.7 µS for 2 devices, 10.35 µS for 1).

    Examples
    --------
    >>> from chipsim.spec import DeviceModel, DeviceSpec
    >>> dev = make_device(DeviceSpec(model=DeviceModel.PCM_LIKE, g_max_us=40.0), 2)
    >>> dev.elements, dev.g_max_us, dev.polarity_g_max_us, dev.t0_s
    (2, 20.0, 40.0, 20.0)
    """
    d = devices_per_polarity
    if isinstance(d, bool) or d not in (1, 2):
        raise SpecError("core.devices_per_polarity", f"must be 1 or 2, got {d!r}")
    d = int(d)
    if spec.model is DeviceModel.PCM_LIKE:
        elements = d
        g_max = (pcm_like.G_MAX_US if spec.g_max_us is None else spec.g_max_us) / d
        t0, t_read = pcm_like.T0_S, pcm_like.T_READ_S
    else:
        elements = 1
        g_max = hermes.G_MAX_US[d] if spec.g_max_us is None else spec.g_max_us
        t0, t_read = hermes.T0_S[d], hermes.T_READ_S
    return PCMDevice(
        model=spec.model,
        elements=elements,
        g_max_us=float(g_max),
        t0_s=float(t0 if spec.t0_s is None else spec.t0_s),
        t_read_s=float(t_read if spec.t_read_s is None else spec.t_read_s),
        prog_noise_scale=float(spec.prog_noise_scale),
        read_noise_scale=float(spec.read_noise_scale),
        drift_scale=float(spec.drift_scale),
        devices_per_polarity=d,
    )
