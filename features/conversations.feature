Feature: Conversations with MangaAssist
  A customer opens the chat, asks questions and gets answers streamed as they are written.
  Their conversation survives a dropped connection, and nobody else can read or write it.

  Scenario: A new customer gets a new session
    When customer "cust-1" connects on connection "A"
    And connection "A" asks for its session
    Then connection "A" is told a new active session that was not resumed

  Scenario: A customer picks up where they left off after a disconnect
    Given customer "cust-1" has chatted on connection "A" and asked "Is Frieren volume 3 in stock?"
    When connection "A" drops
    And customer "cust-1" reconnects on connection "B" naming that session
    And connection "B" asks for its session
    Then connection "B" is told the same session, resumed and active
    And connection "B" sees 2 turns of history, the first being "Is Frieren volume 3 in stock?"

  Scenario: Resuming moves the session, and the old connection loses it
    Given customer "cust-1" has chatted on connection "A" and asked "Hello there"
    When customer "cust-1" reconnects on connection "B" naming that session
    And connection "A" sends the message "Am I still here?"
    Then connection "A" is told the session is not theirs
    And the session has 2 turns

  Scenario: Another customer's session is never resumed
    Given customer "cust-1" has chatted on connection "A" and asked "My order number is 1234"
    When customer "cust-2" connects on connection "B" naming that session
    And connection "B" asks for its session
    Then connection "B" is told a new active session that was not resumed
    And connection "B" sees 0 turns of history

  Scenario: An anonymous session cannot be resumed by id
    Given an anonymous visitor has chatted on connection "A" and asked "Do you sell box sets?"
    When connection "A" drops
    And an anonymous visitor connects on connection "B" naming that session
    And connection "B" asks for its session
    Then connection "B" is told a new active session that was not resumed

  Scenario: A question gets a streamed reply
    Given customer "cust-1" is connected on connection "A"
    When connection "A" sends the message "Is One Piece volume 105 in stock?" with id "m-1"
    Then connection "A" receives at least 1 chunk and then one message replying to "m-1"
    And the chunks put together are the message's content
    And the session has 2 turns

  Scenario: The same message sent twice is answered once
    Given customer "cust-1" is connected on connection "A"
    When connection "A" sends the message "Where is my order?" with id "m-42"
    And connection "A" sends the message "Where is my order?" with id "m-42"
    Then the bot was asked 1 time
    And the session has 2 turns
    And connection "A" received 2 messages replying to "m-42" with the same content

  Scenario: A message without its own id is deduplicated by API Gateway's message id
    Given customer "cust-1" is connected on connection "A"
    When API Gateway delivers the frame "Any new Chainsaw Man?" twice with message id "apigw-1"
    Then the bot was asked 1 time
    And the session has 2 turns

  Scenario: Two messages in the same millisecond are both kept, in order
    Given customer "cust-1" is connected on connection "A"
    And the clock stands still
    When connection "A" sends the message "first" with id "m-a"
    And connection "A" sends the message "second" with id "m-b"
    Then the history of connection "A" is "first", a reply, "second", a reply

  Scenario: A message over the size limit is refused, and nothing is kept of it
    Given customer "cust-1" is connected on connection "A"
    When connection "A" sends a message of 16001 characters
    Then connection "A" is told the message is too large
    And the session has 0 turns
    And the bot was asked 0 times

  Scenario: Nobody writes into another customer's session
    Given customer "cust-1" is connected on connection "A"
    And customer "cust-2" is connected on connection "B"
    When connection "B" sends the message "let me in" into the session of connection "A"
    Then connection "B" is told the session is not theirs
    And the session of connection "A" has 0 turns
    And the bot was asked 0 times

  Scenario: A long conversation never overflows what the bot can read
    Given customer "cust-1" is connected on connection "A"
    When connection "A" has a 40-question conversation with long questions
    Then every prompt the bot received fits in 4000 tokens
    And the last prompt ends with the last question
    And the session has 80 turns
