"""The ground floor: what every taowatch component shares (chain seam, config, logging,
metric names, version). It imports no other taowatch package."""
