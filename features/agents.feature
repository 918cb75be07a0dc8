Feature: Agents take over the conversations customers hand to a human
  A support agent works from a console on the same WebSocket as the customers. The console shows the
  queue of customers waiting for a human. An agent claims one conversation, talks with the customer,
  passes it to a colleague or back to the queue, and hands it back to MangaAssist when done. Only the
  agent holding a conversation may answer, pass it on or let it go.

  Background:
    Given customer "cust-1" is connected on connection "A"
    And agent "mika" has the console open on connection "MIKA"
    And agent "sora" has the console open on connection "SORA"

  Scenario: A customer waits in the queue until an agent claims the conversation
    When connection "A" asks for a human because "my parcel arrived damaged"
    Then connection "A" is told it is waiting for an agent
    And the consoles "MIKA" and "SORA" hear that the queue changed
    When agent "mika" looks at the queue
    Then agent "mika" sees 1 waiting conversation, asked for because "my parcel arrived damaged"
    When agent "mika" claims the conversation
    Then agent "mika" sees the conversation so far
    And connection "A" is told that agent "mika" joined
    And the conversation's handoff history reads "waiting, claimed"

  Scenario: The agent and the customer talk, and a retried reply arrives once
    Given agent "mika" holds the conversation of connection "A"
    When connection "A" sends the message "It is volume 3 of Frieren" with id "m-1"
    Then connection "A" is told its message "m-1" was forwarded
    And agent "mika" receives the customer's message "It is volume 3 of Frieren"
    And the bot was asked 0 times
    When agent "mika" replies "A new copy is on its way" with reply id "r-1"
    And agent "mika" replies "A new copy is on its way" with reply id "r-1"
    And agent "mika" replies "A new copy is on its way" with reply id "r-1"
    Then connection "A" received "A new copy is on its way" from agent "mika" once
    And the conversation holds "A new copy is on its way" once

  Scenario: A message the bot answered before the handoff, sent again during it, gets its stored reply
    Given connection "A" sends the message "Where is my order?" with id "m-42"
    And agent "mika" holds the conversation of connection "A"
    When connection "A" sends the message "Where is my order?" with id "m-42"
    Then connection "A" received 2 messages replying to "m-42" with the same content
    And the bot was asked 1 time
    And agent "mika" received no customer's message
    And nothing about the conversation changed since agent "mika" claimed it

  Scenario: Two agents claim the same conversation at the same moment
    Given connection "A" has asked for a human because "refund"
    When agents "mika" and "sora" claim the conversation at the same moment
    Then exactly one of them holds it, and the other is told "conflict"
    And the conversation's handoff history reads "waiting, claimed"

  Scenario: An agent passes the conversation to a colleague
    Given agent "mika" holds the conversation of connection "A"
    When agent "mika" passes the conversation to "sora"
    Then agent "sora" sees the conversation so far
    And connection "A" is told the conversation moved to agent "sora"
    When agent "mika" replies "Still me?" with reply id "r-2"
    Then the console "MIKA" is told "forbidden"
    And the conversation's handoff history reads "waiting, claimed, transferred"

  Scenario: An agent puts the conversation back in the queue
    Given agent "mika" holds the conversation of connection "A"
    When agent "mika" puts the conversation back in the queue
    And agent "sora" looks at the queue
    Then agent "sora" sees 1 waiting conversation, asked for because "refund"
    When agent "sora" claims the conversation
    Then connection "A" is told that agent "sora" joined

  Scenario: The agent hands the conversation back, and the bot knows what the agent said
    Given agent "mika" holds the conversation of connection "A"
    And agent "mika" replies "Your refund of 12 euros is approved" with reply id "r-1"
    When agent "mika" hands the conversation back to the bot
    Then connection "A" is told MangaAssist is back
    When connection "A" sends the message "Thanks! How long will it take?" with id "m-2"
    Then the bot was asked 1 time
    And the bot's last prompt holds "Your refund of 12 euros is approved"
    And the conversation's handoff history reads "waiting, claimed, released"

  Scenario: What an agent may not do is refused, and changes nothing
    Given agent "mika" holds the conversation of connection "A"
    When agent "sora" replies "Hello from me" with reply id "r-9"
    Then the console "SORA" is told "forbidden"
    When agent "sora" claims the conversation
    Then the console "SORA" is told "conflict"
    When agent "sora" hands the conversation back to the bot
    Then the console "SORA" is told "forbidden"
    When agent "mika" passes the conversation to "mika"
    Then the console "MIKA" is told "bad_request"
    When agent "mika" passes the conversation to "kai"
    Then the console "MIKA" is told "conflict"
    When agent "mika" replies with a message of 16001 characters
    Then the console "MIKA" is told "too_large"
    When agent "mika" claims a conversation that does not exist
    Then the console "MIKA" is told "not_found"
    And nothing about the conversation changed since agent "mika" claimed it

  Scenario: A customer cannot act as an agent
    When connection "A" asks for a human because "refund"
    And connection "A" sends the agent action "agent.queue"
    Then connection "A" is refused with "forbidden"
    And connection "A" never saw the queue

  Scenario: Nobody claims the conversation in time
    Given connection "A" has asked for a human because "refund"
    When 3 minutes pass and the unclaimed handoffs are checked
    Then connection "A" is told nobody has claimed it yet
    And 1 unclaimed handoff was counted
    When the unclaimed handoffs are checked again
    Then connection "A" was told so only once
