; The kitchen domain: the motion layer's skills as STRIPS actions over typed objects.
; Several actions may realise one skill (e.g. `press` on the coffee machine or on the kettle);
; planner/domain/kitchen.yaml maps each action to its skill and the skill's arguments.
; Roles (heater, instant, coffee-maker) and reachability are static facts of the problem, so
; an appliance that is missing or not powered simply leaves its actions ungroundable and the
; search finds the other route by itself.
; One object at a time: the motion layer chooses the hand by the object's side, so a plan
; must never rely on holding something in one hand while the other picks or presses.
; (hands-empty) says neither hand holds anything; every pick, press, open and close needs it.
(define (domain kitchen)
  (:requirements :strips :typing)
  (:types
    place hand content graspable - object
    mug - graspable)
  (:constants coffee water - content user - place)
  (:predicates
    (at ?o - graspable ?p - place)
    (holding ?o - graspable ?h - hand)
    (hand-free ?h - hand)
    (hands-empty)
    (reachable ?p - place)
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

  (:action pick-from-surface
    :parameters (?o - graspable ?p - place ?h - hand)
    :precondition (and (hands-empty) (at ?o ?p) (surface ?p) (reachable ?p) (accessible ?o) (hand-free ?h))
    :effect (and (holding ?o ?h) (not (at ?o ?p)) (not (hand-free ?h)) (not (hands-empty))))

  (:action pick-from-inside
    :parameters (?o - graspable ?p - place ?h - hand)
    :precondition (and (hands-empty) (at ?o ?p) (open ?p) (reachable ?p) (accessible ?o) (hand-free ?h))
    :effect (and (holding ?o ?h) (not (at ?o ?p)) (not (hand-free ?h)) (not (hands-empty))))

  (:action place-on-surface
    :parameters (?o - graspable ?p - place ?h - hand)
    :precondition (and (holding ?o ?h) (surface ?p) (reachable ?p))
    :effect (and (at ?o ?p) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  (:action place-inside
    :parameters (?o - graspable ?p - place ?h - hand)
    :precondition (and (holding ?o ?h) (open ?p) (reachable ?p))
    :effect (and (at ?o ?p) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  ; The coffee machine's cup slot takes mugs only; the user's spot only receives.
  (:action pick-from-slot
    :parameters (?m - mug ?p - place ?h - hand)
    :precondition (and (hands-empty) (at ?m ?p) (coffee-maker ?p) (reachable ?p) (accessible ?m) (hand-free ?h))
    :effect (and (holding ?m ?h) (not (at ?m ?p)) (not (hand-free ?h)) (not (hands-empty))))

  (:action place-in-slot
    :parameters (?m - mug ?p - place ?h - hand)
    :precondition (and (holding ?m ?h) (coffee-maker ?p) (reachable ?p))
    :effect (and (at ?m ?p) (hand-free ?h) (not (holding ?m ?h)) (hands-empty)))

  (:action place-for-user
    :parameters (?o - graspable ?p - place ?h - hand)
    :precondition (and (holding ?o ?h) (serving ?p) (reachable ?p) (deliver ?o))
    :effect (and (at ?o ?p) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  (:action hand-over
    :parameters (?o - graspable ?h - hand)
    :precondition (and (holding ?o ?h) (reachable user) (deliver-by-hand ?o))
    :effect (and (handed ?o) (at ?o user) (hand-free ?h) (not (holding ?o ?h)) (hands-empty)))

  (:action open-storage
    :parameters (?p - place ?h - hand)
    :precondition (and (hands-empty) (openable ?p) (closed ?p) (reachable ?p) (hand-free ?h))
    :effect (and (open ?p) (not (closed ?p))))

  (:action close-storage
    :parameters (?p - place ?h - hand)
    :precondition (and (hands-empty) (openable ?p) (open ?p) (reachable ?p) (hand-free ?h))
    :effect (and (closed ?p) (not (open ?p))))

  ; The machine fills whichever empty mug stands in its cup slot.
  (:action press-coffee-machine
    :parameters (?p - place ?m - mug ?h - hand)
    :precondition (and (hands-empty) (coffee-maker ?p) (powered ?p) (reachable ?p) (at ?m ?p) (empty ?m) (hand-free ?h))
    :effect (and (contains ?m coffee) (not (empty ?m))))

  (:action press-kettle
    :parameters (?k - graspable ?p - place ?h - hand)
    :precondition (and (hands-empty) (heater ?k) (powered ?k) (at ?k ?p) (reachable ?p) (accessible ?k) (hand-free ?h))
    :effect (and (hot ?k)))

  ; Instant coffee goes into the empty mug first; the mug stays "empty" of liquid until the
  ; hot water comes.
  (:action pour-instant
    :parameters (?o - graspable ?m - mug ?p - place ?h - hand)
    :precondition (and (instant ?o) (holding ?o ?h) (at ?m ?p) (surface ?p) (reachable ?p) (empty ?m))
    :effect (and (has-instant ?m)))

  (:action pour-hot-water-on-instant
    :parameters (?k - graspable ?m - mug ?p - place ?h - hand)
    :precondition (and (heater ?k) (hot ?k) (holding ?k ?h) (at ?m ?p) (surface ?p) (reachable ?p) (empty ?m) (has-instant ?m))
    :effect (and (contains ?m coffee) (not (empty ?m)) (not (has-instant ?m))))

  (:action pour-water
    :parameters (?k - graspable ?m - mug ?p - place ?h - hand)
    :precondition (and (heater ?k) (holding ?k ?h) (at ?m ?p) (surface ?p) (reachable ?p) (empty ?m))
    :effect (and (contains ?m water) (not (empty ?m))))
)
