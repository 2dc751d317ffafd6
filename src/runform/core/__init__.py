"""The gait core: pure signal processing, no I/O, no asyncio.

Blocks of samples in, events and strides out. The same objects run live and offline.
"""
