"""Serving the VLA policy over openpi's websocket protocol (msgpack + numpy, no pickle).

``serving.codec`` and ``serving.client`` are the robot side: numpy, msgpack and websockets only
(no torch), so a robot computer needs none of the model stack. ``serving.server`` is the GPU side:
it loads a checkpoint through ``policy/`` and answers many clients.
"""
