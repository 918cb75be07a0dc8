"""The session store on DynamoDB's single table (docs/PROTOCOL.md §11). ``repository`` is the entry point;
``layout`` says what lives where; ``converter`` turns domain objects into items and back."""
