; The kitchen domain: the motion layer's skills as STRIPS actions over typed objects.
; Several actions may realise one skill (e.g. `press` on the coffee machine or on the kettle);
; planner/domain/kitchen.yaml maps each action to its skill and the skill's arguments.
; Roles (heater, instant, coffee-maker) are static facts of the problem, so an appliance that
; is missing or not powered simply leaves its actions ungroundable and the search finds the
; other route by itself.
; Where the robot can act: each place is worked from a station (static `station-of ?p ?s`: the
; place whose stand pose the robot takes; the coffee machine is worked from the close counter's),
; and every action that touches a place needs `(robot-at ?s)` at that place's station. The
; robot is at one station, or `nowhere` when it stands far from every stand pose; `navigate`
; walks it to a station, only when the motion layer can walk (`can-walk`).
; One object at a time: the motion layer chooses the hand by the object's side, so a plan
; must never rely on holding something in one hand while the other picks or presses.
; (hands-empty) says neither hand holds anything; every pick, press, open and close needs it.
(define (domain kitchen)
  (:requirements :strips :typing)
  (:types
    place hand content graspable - object
    mug - graspable)
  (:constants coffee water - content user nowhere - place)
  (:predicates
    (at ?o - graspable ?p - place)
    (holding ?o - graspable ?h - hand)
    (hand-free ?h - hand)
    (hands-empty)
    (robot-at ?s - place)
    (station ?s - place)
    (station-of ?p - place ?s - place)
    (can-walk)
    (accessible ?o - graspable)
    (surface ?p - place)
    (serving ?p - place)
    (openable ?p - place)
    (open ?p - place)
    (closed ?p - place)
    (coffee-maker ?p - place)
    (powered ?x - object)
    (heater ?k - graspable)
    (hot ?k - graspable)
    (instant ?o - graspable)
    (empty ?m - mug)
    (has-instant ?m - mug)
    (contains ?m - mug ?c - content)
    (handed ?o - graspable)
    ; static, from the goal: only what the user asked for goes to the user
    (deliver ?o - graspable)
    (deliver-by-hand ?o - graspable))

  ; Walk to a station. Holding something is fine: the hands keep their grip while the legs walk.
  (:action navigate
    :parameters (?from - place ?to - place)
    :precondition (and (can-walk) (robot-at ?from) (station ?to))
    :effect (and (robot-at ?to) (not (robot-at ?from))))

  (:action pick-from-surface
    :parameters (?o - graspable ?p - place ?h - hand ?s - place)
    :precondition (and (hands-empty) (at ?o ?p) (surface ?p) (robot-at ?s) (station-of ?p ?s) (accessible ?o) (hand-free ?h))
    :effect (and (holding ?o ?h) (not (at ?o ?p)) (not (hand-free ?h)) (not (hands-empty))))

  (:action pick-from-inside
    :parameters (?o - graspable ?p - place ?h - hand ?s - place)
    :precondition (and (hands-empty) (at ?o ?p) (open ?p) (robot-at ?s) (station-of ?p ?s) (accessible ?o) (hand-free ?h))
    :effect (and (holding ?o ?h) (not (at ?o ?p)) (not (hand-free ?h)) (not (hands-empty))))

  (:action place-on-surface
    :parameters (?o - graspable ?p - place ?h - hand ?s - place)
    :precondition (and (holding ?o ?h) (surface ?p) (robot-at ?s) (station-of ?p ?s))
    :effect (and (at ?o ?p) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  (:action place-inside
    :parameters (?o - graspable ?p - place ?h - hand ?s - place)
    :precondition (and (holding ?o ?h) (open ?p) (robot-at ?s) (station-of ?p ?s))
    :effect (and (at ?o ?p) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  ; The coffee machine's cup slot takes mugs only; the user's spot only receives.
  (:action pick-from-slot
    :parameters (?m - mug ?p - place ?h - hand ?s - place)
    :precondition (and (hands-empty) (at ?m ?p) (coffee-maker ?p) (robot-at ?s) (station-of ?p ?s) (accessible ?m) (hand-free ?h))
    :effect (and (holding ?m ?h) (not (at ?m ?p)) (not (hand-free ?h)) (not (hands-empty))))

  (:action place-in-slot
    :parameters (?m - mug ?p - place ?h - hand ?s - place)
    :precondition (and (holding ?m ?h) (coffee-maker ?p) (robot-at ?s) (station-of ?p ?s))
    :effect (and (at ?m ?p) (hand-free ?h) (not (holding ?m ?h)) (hands-empty)))

  (:action place-for-user
    :parameters (?o - graspable ?p - place ?h - hand ?s - place)
    :precondition (and (holding ?o ?h) (serving ?p) (robot-at ?s) (station-of ?p ?s) (deliver ?o))
    :effect (and (at ?o ?p) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  (:action hand-over
    :parameters (?o - graspable ?h - hand ?s - place)
    :precondition (and (holding ?o ?h) (robot-at ?s) (station-of user ?s) (deliver-by-hand ?o))
    :effect (and (handed ?o) (at ?o user) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  (:action open-storage
    :parameters (?p - place ?h - hand ?s - place)
    :precondition (and (hands-empty) (openable ?p) (closed ?p) (robot-at ?s) (station-of ?p ?s) (hand-free ?h))
    :effect (and (open ?p) (not (closed ?p))))

  (:action close-storage
    :parameters (?p - place ?h - hand ?s - place)
    :precondition (and (hands-empty) (openable ?p) (open ?p) (robot-at ?s) (station-of ?p ?s) (hand-free ?h))
    :effect (and (closed ?p) (not (open ?p))))

  ; The machine fills whichever empty mug stands in its cup slot.
  (:action press-coffee-machine
    :parameters (?p - place ?m - mug ?h - hand ?s - place)
    :precondition (and (hands-empty) (coffee-maker ?p) (powered ?p) (robot-at ?s) (station-of ?p ?s) (at ?m ?p) (empty ?m) (hand-free ?h))
    :effect (and (contains ?m coffee) (not (empty ?m))))

  (:action press-kettle
    :parameters (?k - graspable ?p - place ?h - hand ?s - place)
    :precondition (and (hands-empty) (heater ?k) (powered ?k) (at ?k ?p) (robot-at ?s) (station-of ?p ?s) (accessible ?k) (hand-free ?h))
    :effect (and (hot ?k)))

  ; Instant coffee goes into the empty mug first; the mug stays "empty" of liquid until the
  ; hot water comes.
  (:action pour-instant
    :parameters (?o - graspable ?m - mug ?p - place ?h - hand ?s - place)
    :precondition (and (instant ?o) (holding ?o ?h) (at ?m ?p) (surface ?p) (robot-at ?s) (station-of ?p ?s) (empty ?m))
    :effect (and (has-instant ?m)))

  (:action pour-hot-water-on-instant
    :parameters (?k - graspable ?m - mug ?p - place ?h - hand ?s - place)
    :precondition (and (heater ?k) (hot ?k) (holding ?k ?h) (at ?m ?p) (surface ?p) (robot-at ?s) (station-of ?p ?s) (empty ?m) (has-instant ?m))
    :effect (and (contains ?m coffee) (not (empty ?m)) (not (has-instant ?m))))

  (:action pour-water
    :parameters (?k - graspable ?m - mug ?p - place ?h - hand ?s - place)
    :precondition (and (heater ?k) (holding ?k ?h) (at ?m ?p) (surface ?p) (robot-at ?s) (station-of ?p ?s) (empty ?m))
    :effect (and (contains ?m water) (not (empty ?m))))
)
