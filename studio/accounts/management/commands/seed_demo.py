from django.core.management.base import BaseCommand

from studio.accounts.models import User
from studio.accounts.services import sign_up
from studio.generation.accounts import add_sandbox_accounts
from studio.projects.models import Project, Shot
from studio.prompts.fields import DialogueLine, PromptFields

DEMO_EMAIL = "demo@studio.local"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo login for local use

SAMPLE = PromptFields(
    subject="A young barista with a silver nose ring",
    action="slides a latte across the counter, looks up and smiles",
    setting="a sunlit corner café at dawn, steam in the air",
    camera_shot="Medium close-up",
    camera_movement="Slow dolly in",
    style="warm film look, shallow depth of field",
    mood="cosy, hopeful",
    dialogue=(
        DialogueLine("Barista", "Your usual? Oat milk, extra hot.", "warm, smiling"),
        DialogueLine("Customer", "You know me too well.", "laughing"),
    ),
    ambience="quiet café murmur, rain on the window",
    sound_effects="milk steamer hiss, cup set on a saucer",
    music="soft acoustic guitar, low in the mix",
)


class Command(BaseCommand):
    help = "Create the demo login, a sample shot and sandbox provider accounts (idempotent)."

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = sign_up(
                name="Demo Creator",
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                workspace_name="Demo studio",
            )
        workspace = user.memberships.first().workspace
        project, _ = Project.objects.get_or_create(
            workspace=workspace, name="Welcome to Studio", defaults={"created_by": user}
        )
        Shot.objects.get_or_create(
            workspace=workspace,
            project=project,
            name="Café opening",
            defaults={
                "created_by": user,
                "draft": {
                    "fields": SAMPLE.to_dict(),
                    "provider": "preview",
                    "model": "kling-2.6-pro",
                    "params": {
                        "duration": 5,
                        "aspect_ratio": "9:16",
                        "resolution": "1080p",
                        "audio": True,
                    },
                },
            },
        )
        sandboxes = add_sandbox_accounts(workspace)
        self.stdout.write(
            f"Demo ready: log in as {DEMO_EMAIL} / {DEMO_PASSWORD}"
            + (f" ({len(sandboxes)} sandbox provider accounts)" if sandboxes else "")
        )
