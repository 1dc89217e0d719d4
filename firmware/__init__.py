"""The device side of over-the-air deployment: the protocol and a virtual microcontroller.

* :mod:`tinyreg.core.protocol`: topics, the signed manifest, chunk frames and
  acknowledgement bitmaps, Ed25519 keys (shared with the deployer).
* :mod:`tinyreg.firmware.device`: :class:`~tinyreg.firmware.device.VirtualDevice`, limits
  from a Thing Description, flash slots and state on disk, the real TFLite Micro
  interpreter.
* :mod:`tinyreg.firmware.fleet`: many devices in one process over one MQTT connection
  (``tinyreg device run``).
* :mod:`tinyreg.firmware.target`: the C agent (``agent/``, TFLite Micro with CMSIS-NN) on
  emulated Cortex-M cores in QEMU: bench a model on the target (docs/firmware.md).
* :mod:`tinyreg.firmware.operators`: the operators the agent registers, derived from the models.

The wire protocol is described in ``PROTOCOL.md`` beside this file.

Each module's public names are in its own ``__all__``; importing this package loads
none of them (the TFLite Micro runtime stays unloaded until a device needs it).
"""

__all__: list[str] = []
