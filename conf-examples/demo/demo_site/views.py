from flask import Blueprint, render_template

from demo_site import settings
from demo_site.greeting import greeting

pages = Blueprint("pages", __name__)


@pages.route("/")
def index():
    settings.VISITS.append(1)
    return render_template("index.html", message=greeting("pyfresh"), visits=len(settings.VISITS),
                           started_at=settings.STARTED_AT)
