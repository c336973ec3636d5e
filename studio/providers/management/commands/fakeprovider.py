from django.core.management.base import BaseCommand

from studio.providers.fake.server import serve


class Command(BaseCommand):
    help = "Run the bundled fake provider (every provider's wire format) on this machine."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)

    def handle(self, *args, host: str, port: int, **options) -> None:
        self.stdout.write(f"Fake provider listening on http://{host}:{port} (Ctrl+C to stop)")
        serve(host, port)
