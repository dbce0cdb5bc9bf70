"""The bundled miner and validator: btauth/1 over aiohttp, observable by construction."""
