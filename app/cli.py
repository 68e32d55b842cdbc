"""CLI commands: `flask --app run seed-demo`, `flask --app run sync-security`."""
import click


def register(app, sync_security):
    """sync_security is passed in by the app factory (app/__init__.py), which imports this module:
    importing it back from here would make a cycle."""
    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo institutions, accounts and register (idempotent)."""
        from app import demo
        from flask import current_app
        sync_security(current_app)
        counts = demo.seed()
        click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))

    @app.cli.command("sync-security")
    def sync():
        """Create the declared roles and all view permissions."""
        from flask import current_app
        sync_security(current_app)
        click.echo("roles and permissions synced")

    @app.cli.command("purge-rejected-files")
    def purge_rejected_files():
        """Delete the documents of registrations rejected more than REGISTRY_REJECTED_FILES_DAYS ago."""
        from app.services import registration_documents
        cleaned = registration_documents.purge_rejected()
        click.echo(f"documents of {len(cleaned)} rejected registration(s) deleted")
