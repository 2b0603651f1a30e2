"""Simulation layer: scene/task specs, the Arm interface, PyBullet tabletop, success checks, expert.

Importing ``sim`` (or ``sim.scene``) stays light: pybullet is imported only when an arm connects,
so the policy layer can use the scene types on a machine without pybullet.
"""
