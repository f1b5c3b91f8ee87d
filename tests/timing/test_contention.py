"""Links are shared resources and buffers are bounded: contention and back-pressure."""

import dataclasses
from dataclasses import replace

import pytest
import simpy

from chipsim.cost import Latencies
from chipsim.spec import BufferSpec, ChipSpec, NetworkSpec, Topology, hermes
from chipsim.timing import PlacedBlock, TimingConfig, TimingError, TransportMode, build_plan
from chipsim.timing.engine import run_plan
from chipsim.timing.links import Network
from chipsim.timing.ports import Port
from chipsim.timing.stream import Stream
from chipsim.workload.lowered import LoweredLayer


def test_link_serves_transfers_in_turn():
    chip = hermes()
    net = Network(chip, Latencies.of(chip))
    a = net.transfer(0, 0, (1,), Stream(0, 0, 100))[0]
    b = net.transfer(0, 0, (1,), Stream(0, 0, 100))[0]
    assert (a.first, a.last) == (2500 + 5000, 99 * 2500 + 2500 + 5000)
    # the second waits until the first has left the link, then streams at the same rate
    assert (b.first, b.last) == (100 * 2500 + a.first, a.last + 100 * 2500)
    link = net.links[(0, 1)]
    assert link.transfers == 2 and link.bits == 1600 and link.peak_queue == 2
    # the reverse direction is a separate link
    c = net.transfer(0, 1, (0,), Stream(0, 0, 100))[0]
    assert c.last == a.last


def _line_chip(width_bits=8):
    return dataclasses.replace(hermes(), grid=(1, 4), gdpu_slices=0, gdpu_after_row=0,
                               network=NetworkSpec(topology=Topology.MESH,
                                                   link_width_bits=width_bits))


def _two_flows(which):
    chip = _line_chip()
    layers, blocks = [], []
    if "a" in which:  # chain core 0 -> core 2: route 0->1->2
        layers.append(LoweredLayer("a", "linear", 512, 256, 1))
        blocks += [PlacedBlock("a", 0, (0, 256), (0, 256), 0),
                   PlacedBlock("a", 0, (256, 512), (0, 256), 2)]
    if "b" in which:  # chain core 1 -> core 3: route 1->2->3
        layers.append(LoweredLayer("b", "linear", 512, 256, 1))
        blocks += [PlacedBlock("b", 0, (0, 256), (0, 256), 1),
                   PlacedBlock("b", 0, (256, 512), (0, 256), 3)]
    plan = build_plan(layers, blocks, chip, TransportMode.ONCHIP, preloaded=True,
                      sinks_to_host=False)
    return run_plan(plan, chip, TimingConfig(transport=TransportMode.ONCHIP, inferences=1))


def test_two_flows_over_one_link_finish_later_than_either_alone():
    a, b, ab = _two_flows("a"), _two_flows("b"), _two_flows("ab")
    assert a.makespan_ps == b.makespan_ps
    assert ab.makespan_ps >= max(a.makespan_ps, b.makespan_ps) + 200 * 2500
    assert ab.link_peak_queue["1->2"] == 2 and a.link_peak_queue["1->2"] == 1
    assert ab.link_utilization["1->2"] > a.link_utilization["1->2"]


def _producer_consumer(buffer):
    chip = hermes()
    layers = [LoweredLayer("fast", "linear", 256, 16, 1),
              LoweredLayer("slow", "linear", 16, 256, 1, sources=("fast",))]
    blocks = [PlacedBlock("fast", 0, (0, 256), (0, 16), 0),
              PlacedBlock("slow", 0, (0, 16), (0, 256), 1)]
    plan = build_plan(layers, blocks, chip, TransportMode.ONCHIP)
    chip = replace(chip, buffers=BufferSpec(activation_vectors=buffer))
    return run_plan(plan, chip, TimingConfig(transport=TransportMode.ONCHIP, inferences=12))


def test_back_pressure_when_the_consumer_is_slower():
    tight, loose = _producer_consumer(1), _producer_consumer(12)

    def last_mvm(r, core):
        return max(e for c, _, e, a in r.timeline if c == core and a == "mvm")

    # the producer (core 0) is held back by the consumer's full buffer
    assert last_mvm(tight, 0) > last_mvm(loose, 0) + 5 * 100_000
    assert tight.buffer_peak["core 1 act fast"] == 1
    assert loose.buffer_peak["core 1 act fast"] > 1
    # the consumer's pace sets the throughput either way
    assert tight.throughput_inf_per_s == pytest.approx(loose.throughput_inf_per_s, rel=0.05)
    assert tight.core_counts[0]["mvms"] == loose.core_counts[0]["mvms"] == 12


def test_port_credits_and_windowed_buffer():
    env = simpy.Environment()
    p = Port(env, 2)
    assert p.acquire() is None and p.acquire() is None
    ev = p.acquire()
    assert ev is not None and not ev.triggered
    p.release()
    assert ev.triggered and p.peak == 2
    w = Port(env, 2, window=True)
    assert w.acquire(0) is None and w.acquire(1) is None
    late = w.acquire(5)
    assert not late.triggered
    w.advance(4)
    assert late.triggered
    # a future move of the window frees space only when its time comes
    f = Port(env, 1, window=True)
    assert f.acquire(0) is None
    waiting = f.acquire(1)
    f.advance(1, at=1000)
    env.run(until=999)
    assert not waiting.triggered
    env.run(until=1001)
    assert waiting.triggered
    # counted credits returned in the future
    c = Port(env, 1)
    assert c.acquire() is None
    again = c.acquire()
    c.release(1, at=2000)
    env.run(until=1999)
    assert not again.triggered
    env.run(until=2001)
    assert again.triggered


def test_too_small_activation_buffer_is_an_error():
    chip = hermes()
    layers = [LoweredLayer("c0", "conv", 27, 16, 64),
              LoweredLayer("c1", "conv", 144, 16, 64, sources=("c0",))]
    blocks = [PlacedBlock("c0", 0, (0, 27), (0, 16), 0),
              PlacedBlock("c1", 0, (0, 144), (0, 16), 1)]
    plan = build_plan(layers, blocks, chip, TransportMode.ONCHIP)
    with pytest.raises(TimingError, match="buffers.activation_vectors: 2 vectors are too few"):
        run_plan(plan, replace(chip, buffers=BufferSpec(activation_vectors=2)),
                 TimingConfig(transport=TransportMode.ONCHIP))
    r = run_plan(plan, chip, TimingConfig(transport=TransportMode.ONCHIP, inferences=2))
    assert r.buffer_peak["core 1 act c0"] <= 2 * 9 + 1 + 1


def test_line_chip_is_a_valid_spec():
    assert isinstance(_line_chip(), ChipSpec)
