from adapteval.cli import app

app()
