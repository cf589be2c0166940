"""ApiFunction: the FastAPI app behind API Gateway, through Mangum."""

from mangum import Mangum

from api.main import app

handler = Mangum(app, lifespan="off")
