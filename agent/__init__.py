"""The taowatch agent: config, scheduler, HTTP endpoints and the InfluxDB sink."""
