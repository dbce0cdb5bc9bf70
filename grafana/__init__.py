"""taowatch's Grafana component: dashboard builders, their generated JSON and provisioning."""
