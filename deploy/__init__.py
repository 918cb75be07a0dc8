"""Deployment tooling: the Lambda artifact that ``template.yaml`` deploys (not shipped to Lambda)."""
