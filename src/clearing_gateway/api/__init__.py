"""HTTP plumbing shared by every domain's endpoints."""
