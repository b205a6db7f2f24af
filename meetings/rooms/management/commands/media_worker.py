import asyncio
import logging
import os
import signal

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import TimeoutError as RedisTimeout

from meetings import metrics
from meetings.rooms.media.health import HEALTH_SECONDS, write_health
from meetings.rooms.media.ice import configure_hub_network
from meetings.rooms.media.manager import HubManager

logger = logging.getLogger("meetings.media")


class Command(BaseCommand):
    help = (
        "Run a media worker: the hubs of the meetings assigned to it, reached over the channel "
        "layer (needs REDIS_URL). With MEDIA_WORKERS=n, run n workers with --index 0..n-1."
    )
    # A worker restarted after a crash must be back within seconds, and the system checks
    # (which import every URL and API module) take about as long as the rest of the start on
    # a busy machine. The worker serves no URLs; web nodes and deployments run the checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--index", type=int, default=0)

    def handle(self, *args, index: int, **options):
        if settings.MEDIA_WORKER != "worker":
            raise CommandError("media_worker needs REDIS_URL (MEDIA_WORKER=worker)")
        if not 0 <= index < settings.MEDIA_WORKERS:
            raise CommandError(f"--index must be from 0 to {settings.MEDIA_WORKERS - 1}")
        configure_hub_network()
        # Its hubs' figures for Prometheus, on a port of its own (meetings/metrics.py).
        metrics_port = int(os.environ.get("MEDIA_METRICS_PORT") or 0)
        if metrics_port:
            metrics.serve_media_metrics(
                metrics_port, os.environ.get("MEDIA_METRICS_ADDRESS", "127.0.0.1")
            )
        asyncio.run(self.serve(f"media.{index}", index=index))

    async def serve(self, channel: str, *, index: int = 0) -> None:
        layer = get_channel_layer()
        manager = HubManager(
            send=layer.send,
            group_send=layer.group_send,
            # The doorbells of its hubs' meetings: the record's entries they act on.
            subscribe=lambda group: layer.group_add(group, channel),
            unsubscribe=lambda group: layer.group_discard(group, channel),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        tasks: set[asyncio.Task] = set()
        receive = asyncio.ensure_future(layer.receive(channel))
        # A supervisor may have started us after a crash: the screens of our meetings are told
        # to offer again, and live meetings' hubs start now (HubManager.resume). Their offers
        # wait in Redis until this loop takes them.
        resuming = asyncio.ensure_future(
            manager.resume(index=index, workers=settings.MEDIA_WORKERS)
        )
        # Its hubs, every few seconds, for compose's health check (manage.py media_health).
        health = asyncio.ensure_future(self.report_health(index, channel, manager))
        self.stdout.write(f"media worker listening on {channel}")
        self.stdout.flush()
        while not stop.is_set():
            waiting = asyncio.ensure_future(stop.wait())
            done, _pending = await asyncio.wait(
                {receive, waiting}, return_when=asyncio.FIRST_COMPLETED
            )
            waiting.cancel()
            if receive in done:
                try:
                    message = receive.result()
                except RedisTimeout:
                    # redis-py's 5 s socket timeout ends channels-redis's 5 s blocking pop of
                    # an idle channel: nothing went wrong, listen again at once.
                    pass
                except Exception:
                    logger.exception("media worker: receiving failed")
                    await asyncio.sleep(1)
                else:
                    task = asyncio.ensure_future(manager.handle(message))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                receive = asyncio.ensure_future(layer.receive(channel))
        receive.cancel()
        resuming.cancel()
        health.cancel()
        await manager.close()

    @staticmethod
    async def report_health(index: int, channel: str, manager: HubManager) -> None:
        while True:
            try:
                write_health(index, channel=channel, hubs=manager.hubs)
            except OSError:
                logger.exception("media worker: writing its health file failed")
            await asyncio.sleep(HEALTH_SECONDS)
