"""`python main.py serve --checkpoint DIR --port 8000 [--api-key KEY]`: serve the VLA policy.

Clients speak openpi's websocket protocol (``serving/server.py``); the robot side needs only
``serving.client`` (numpy, msgpack, websockets). ``episodes --policy-server ws://host:port`` runs
the agent against it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from serving.server import ServeConfig

    defaults = ServeConfig()
    default_checkpoint = Path(__file__).resolve().parents[2] / "checkpoints" / "vla"
    parser.add_argument("--checkpoint", default=str(default_checkpoint), help="policy checkpoint folder")
    parser.add_argument("--host", default=defaults.host, help="interface to bind (default loopback only)")
    parser.add_argument("--port", type=int, default=defaults.port, help="TCP port")
    parser.add_argument("--api-key", default=os.environ.get("ASKVLA_API_KEY"),
                        help="required 'Authorization: Api-Key ...' value (default $ASKVLA_API_KEY; none: open)")
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch, help="most requests run together")
    parser.add_argument("--batch-wait-ms", type=float, default=defaults.batch_wait_ms,
                        help="wait this long for more requests after the first of a batch")
    parser.add_argument("--max-frame-mb", type=float, default=defaults.max_frame_bytes / 2**20,
                        help="largest request frame accepted (MiB)")
    parser.add_argument("--session-ttl-s", type=float, default=600.0, help="drop a session this long after its last call")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    parser.add_argument("--decode", choices=("auto", "dynamic", "static", "compiled"), default="auto",
                        help="KV cache the reasoning is decoded on (RuntimeSettings.decode; auto: compiled on CUDA)")


def run(args: argparse.Namespace) -> int:
    from serving.policy_backend import RuntimeBackend
    from serving.server import PolicyServer, ServeConfig

    backend = RuntimeBackend.from_checkpoint(args.checkpoint, device=args.device, decode=args.decode,
                                             ttl_s=args.session_ttl_s)
    config = ServeConfig(host=args.host, port=args.port, api_key=args.api_key or None, max_batch=args.max_batch,
                         batch_wait_ms=args.batch_wait_ms, max_frame_bytes=int(args.max_frame_mb * 2**20))
    server = PolicyServer(backend, config)

    async def main() -> None:
        await server.start()
        print(f"serving {args.checkpoint} on ws://{config.host}:{server.port} "
              f"(api key {'required' if config.api_key else 'off'}, batches of up to {config.max_batch} "
              f"within {config.batch_wait_ms:g} ms; GET /healthz)", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    asyncio.run(main())
    return 0
