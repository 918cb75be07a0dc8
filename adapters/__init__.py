"""Adapters: the ports of ``application.ports`` implemented on memory, DynamoDB, Bedrock and API Gateway."""
