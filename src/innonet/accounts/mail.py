"""Sending invitation and reset links: by SMTP when configured, else to the server's log."""

import smtplib
import sys
from email.message import EmailMessage

from innonet.config import Settings


def deliver(settings: Settings, *, to: str, subject: str, body: str) -> bool:
    """Send a message; True when a mail server took it. Without SMTP the log gets it."""
    if not settings.smtp_host:
        print(f"innonet: mail to {to} (no SMTP server set): {subject}\n{body}", file=sys.stderr)
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as server:
        if settings.smtp_starttls:
            server.starttls()
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password)
        server.send_message(message)
    return True
