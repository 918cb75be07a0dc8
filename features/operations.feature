Feature: Finding out why the bot never answered, and putting it right
  When a customer says "the bot never answered me", an operator finds the session's story with
  `manga-assist inspect`, and brings back the reply the table refused with `manga-assist redrive`.

  Scenario: A reply the table refused is found with inspect, redriven, and then present
    Given MangaAssist runs on DynamoDB with a retry queue and its dead-letter queue
    And customer "cust-1" is connected on connection "A"
    And the table refuses every reply write
    When connection "A" sends the message "Where is my order 1234?" with id "m-lost"
    Then connection "A" still receives the reply
    When the turn writer tries the queued reply until SQS gives up on it
    Then inspect shows message "m-lost" without a reply
    When the table accepts writes again
    And an operator redrives the dead-letter queue through the turn writer
    Then the redrive reports 1 stored and nothing failed
    And inspect shows every message answered
    And the session has 2 turns
