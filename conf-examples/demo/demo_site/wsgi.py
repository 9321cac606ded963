from flask import Flask

from demo_site.views import pages


def create_app():
    app = Flask(__name__)
    app.register_blueprint(pages)
    return app


application = create_app()
