"""simnet: a simulated subtensor behind the bittensor SDK's own ``Substrate`` seam."""
