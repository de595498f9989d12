/*
 * Tendermint with generalised thresholds, one height, two rounds, one faulty process.
 *
 * Model of ledgr's consensus core (docs/consensus.md; Algorithm 1 of Buchman-Kwon-Milosevic,
 * arXiv 1807.04938) with q in place of 2f+1 and accountable prevotes. Processes 0..N-2 are
 * correct; process N-1 is Byzantine. The proposer of round r is (N-1+r) mod N, so the Byzantine
 * process proposes round 0 (it may show each process a different value) and correct process 0
 * proposes round 1 (its valid value with its valid round, or a fresh value).
 *
 * Messages are global "sent" arrays. Every rule's guard is monotone in the messages, and the
 * timeouts (lines 57, 61, 65) are always enabled, so a process acting on all messages sent so far
 * covers every delivery order. The Byzantine process sends any vote to any process at any time;
 * to keep the state space small it is modelled lazily: its vote is recorded at the moment a correct
 * process counts it (a vote nobody counts cannot influence anything). Byzantine nil votes are left
 * out: they only enable precommit-nil, which the timeouts enable anyway. As in the core's vote
 * keeper, a prevote claiming a polka (valid round 0) counts only where that polka is known.
 *
 * Compile-time parameters: N (3 or 4), Q (quorum), and
 *   -DACCOUNTABLE  a fork must come with signed evidence against the faulty process
 *                  (equivocation, or a precommit plus a later prevote whose valid round is older);
 *   -DFIND_FORK    assert agreement but expect spin to find a fork (shows the model can fork);
 *   -DFIND_DECIDE  expect spin to reach a decision (shows the model is not vacuous).
 * Without flags: agreement must hold.
 */

#ifndef N
#define N 4
#endif
#ifndef Q
#define Q 3
#endif
#define NC (N-1)          /* correct processes 0..NC-1 */
#define R 2
#define V0 0
#define V1 1
#define NIL 2
#define NONE 3
#define NOVR 9            /* valid round -1 */
#define PROPOSE 0
#define PREVOTE 1
#define PRECOMMIT 2

byte cpv[R*NC];           /* prevote of correct p in round r: V0, V1, NIL or NONE */
byte cpc[R*NC];           /* precommit of correct p in round r */
byte cprop[R];            /* proposal of the correct proposer (round 1) */
byte cpropvr[R];
byte bprop[NC];           /* the Byzantine round-0 proposal as seen by each process */
byte bpv[R*NC];           /* bit v: the Byzantine prevote for v in round r reached process p */
byte bvr0[NC];            /* bit v: that round-1 prevote claimed valid round 0 (else -1) */
byte bpc[R*NC];           /* bit v: the Byzantine precommit for v in round r reached process p */
byte dec[NC];

#define BIT(x, v) (((x) >> (v)) & 1)
#if N == 3
#define CPV(r, v) ((cpv[(r)*NC+0] == (v)) + (cpv[(r)*NC+1] == (v)))
#define CPC(r, v) ((cpc[(r)*NC+0] == (v)) + (cpc[(r)*NC+1] == (v)))
#define UPV(r) (bpv[(r)*NC+0] | bpv[(r)*NC+1])
#define UPC(r) (bpc[(r)*NC+0] | bpc[(r)*NC+1])
#define VR0(v) ((BIT(bpv[NC+0], v) && BIT(bvr0[0], v)) || (BIT(bpv[NC+1], v) && BIT(bvr0[1], v)))
#define VRM(v) ((BIT(bpv[NC+0], v) && !BIT(bvr0[0], v)) || (BIT(bpv[NC+1], v) && !BIT(bvr0[1], v)))
#else
#define CPV(r, v) ((cpv[(r)*NC+0] == (v)) + (cpv[(r)*NC+1] == (v)) + (cpv[(r)*NC+2] == (v)))
#define CPC(r, v) ((cpc[(r)*NC+0] == (v)) + (cpc[(r)*NC+1] == (v)) + (cpc[(r)*NC+2] == (v)))
#define UPV(r) (bpv[(r)*NC+0] | bpv[(r)*NC+1] | bpv[(r)*NC+2])
#define UPC(r) (bpc[(r)*NC+0] | bpc[(r)*NC+1] | bpc[(r)*NC+2])
#define VR0(v) ((BIT(bpv[NC+0], v) && BIT(bvr0[0], v)) || (BIT(bpv[NC+1], v) && BIT(bvr0[1], v)) \
                || (BIT(bpv[NC+2], v) && BIT(bvr0[2], v)))
#define VRM(v) ((BIT(bpv[NC+0], v) && !BIT(bvr0[0], v)) || (BIT(bpv[NC+1], v) && !BIT(bvr0[1], v)) \
                || (BIT(bpv[NC+2], v) && !BIT(bvr0[2], v)))
#endif

/* what process i sees as the proposal of round r */
#define PROP(r, i) (((r) == 0) * bprop[i] + ((r) == 1) * cprop[1])
#define PROPVR(r, i) (((r) == 0) * NOVR + ((r) == 1) * cpropvr[1])

/* signed evidence against the faulty process (docs/consensus.md, "Evidence") */
#define EQUIVOCATION (UPV(0) == 3 || UPV(1) == 3 || UPC(0) == 3 || UPC(1) == 3 \
                      || (VR0(V0) && VRM(V0)) || (VR0(V1) && VRM(V1)))
#define AMNESIA ((BIT(UPC(0), V0) && VRM(V1)) || (BIT(UPC(0), V1) && VRM(V0)))
#define EVIDENCE (EQUIVOCATION || AMNESIA)

/* the Byzantine process's vote for v in round r reaches i now (if it had not already) */
inline byz_prevote(r, i, v) {
  if
  :: !BIT(bpv[(r)*NC+(i)], v) ->
       bpv[(r)*NC+(i)] = bpv[(r)*NC+(i)] | (1 << (v));
       if
       :: (r) == 1 && CPV(0, v) + BIT(bpv[i], v) >= Q ->
            bvr0[i] = bvr0[i] | (1 << (v))              /* claims the round-0 polka process i knows */
       :: (r) == 1 && CPV(0, v) + 1 >= Q && !BIT(bpv[i], v) ->
            bpv[i] = bpv[i] | (1 << (v));               /* ...after sending i its round-0 prevote too */
            bvr0[i] = bvr0[i] | (1 << (v))
       :: true -> skip                                  /* claims no polka (valid round -1) */
       fi
  :: else -> skip
  fi
}

inline decide(i, v) {
  dec[i] = v;
#ifdef FIND_DECIDE
  assert(false);
#endif
  j = 0;
  do
  :: j < NC ->
       if
       :: dec[j] != NONE && dec[j] != v ->
#ifdef ACCOUNTABLE
            assert(EVIDENCE)
#else
            assert(false)
#endif
       :: else -> skip
       fi;
       j++
  :: else -> break
  od
}

proctype Correct(byte i) {
  byte round = 0, step = PROPOSE, lv = NONE, lr = NOVR, vv = NONE, vr = NOVR;
  bool done36 = false;
  byte v, w, r2, j;   /* scratch, reset to 0 after every step */
end:
  do
  :: dec[i] != NONE -> break
  /* the Byzantine proposer's round-0 proposal arrives (any value) */
  :: atomic { dec[i] == NONE && round == 0 && step == PROPOSE && bprop[i] == NONE ->
       if :: bprop[i] = V0 :: bprop[i] = V1 fi }
  /* line 22: fresh proposal; prevote it unless locked on another value */
  :: atomic { dec[i] == NONE && step == PROPOSE && PROP(round, i) != NONE && PROPVR(round, i) == NOVR ->
       v = PROP(round, i);
       if :: lr == NOVR || lv == v -> w = v :: else -> w = NIL fi;
       /* never accused: a value other than an earlier precommit needs a newer valid round */
       assert(!(round == 1 && cpc[i] < NIL && w < NIL && w != cpc[i] && !(lv == w && lr != NOVR)));
       cpv[round*NC+i] = w; step = PREVOTE; v = 0; w = 0; r2 = 0 }
  /* line 28: re-proposal with a polka in an earlier round */
  :: atomic { dec[i] == NONE && step == PROPOSE && PROP(round, i) != NONE && PROPVR(round, i) < round &&
              CPV(PROPVR(round, i), PROP(round, i)) + 1 >= Q ->
       v = PROP(round, i); r2 = PROPVR(round, i);
       if :: CPV(r2, v) < Q -> byz_prevote(r2, i, v) :: else -> skip fi;
       if :: lr == NOVR || lr <= r2 || lv == v -> w = v :: else -> w = NIL fi;
       cpv[round*NC+i] = w; step = PREVOTE; v = 0; w = 0; r2 = 0 }
  /* line 57: timeout propose */
  :: atomic { dec[i] == NONE && step == PROPOSE -> cpv[round*NC+i] = NIL; step = PREVOTE }
  /* line 36: polka for the round's proposal: lock and precommit, set the valid value */
  :: atomic { dec[i] == NONE && step != PROPOSE && !done36 && PROP(round, i) != NONE &&
              CPV(round, PROP(round, i)) + 1 >= Q ->
       v = PROP(round, i);
       if :: CPV(round, v) < Q -> byz_prevote(round, i, v) :: else -> skip fi;
       done36 = true;
       if :: step == PREVOTE -> lv = v; lr = round; cpc[round*NC+i] = v; step = PRECOMMIT
          :: else -> skip fi;
       vv = v; vr = round; v = 0 }
  /* line 44: q nil prevotes */
  :: atomic { dec[i] == NONE && step == PREVOTE && CPV(round, NIL) >= Q -> cpc[round*NC+i] = NIL; step = PRECOMMIT }
  /* line 61: timeout prevote */
  :: atomic { dec[i] == NONE && step == PREVOTE -> cpc[round*NC+i] = NIL; step = PRECOMMIT }
  /* line 49: a proposal and q precommits for it, in any round */
  :: atomic { dec[i] == NONE && PROP(0, i) != NONE && CPC(0, PROP(0, i)) + 1 >= Q ->
       v = PROP(0, i);
       if :: CPC(0, v) < Q -> bpc[i] = bpc[i] | (1 << v) :: else -> skip fi;
       decide(i, v); v = 0; j = 0 }
  :: atomic { dec[i] == NONE && PROP(1, i) != NONE && CPC(1, PROP(1, i)) + 1 >= Q ->
       v = PROP(1, i);
       if :: CPC(1, v) < Q -> bpc[NC+i] = bpc[NC+i] | (1 << v) :: else -> skip fi;
       decide(i, v); v = 0; j = 0 }
  /* lines 55/65: next round (round skip or timeout precommit); process 0 proposes round 1 */
  :: atomic { dec[i] == NONE && round < R-1 ->
       round++; step = PROPOSE; done36 = false;
       if
       :: i == 0 && vv != NONE -> cprop[round] = vv; cpropvr[round] = vr
       :: i == 0 && vv == NONE -> cprop[round] = V1; cpropvr[round] = NOVR
       :: else -> skip
       fi }
  od
}

init {
  byte k;
  atomic {
    k = 0;
    do
    :: k < R*NC -> cpv[k] = NONE; cpc[k] = NONE; k++
    :: else -> break
    od;
    k = 0;
    do
    :: k < NC -> bprop[k] = NONE; dec[k] = NONE; k++
    :: else -> break
    od;
    cprop[0] = NONE; cprop[1] = NONE; cpropvr[0] = NOVR; cpropvr[1] = NOVR;
    k = 0;
    do
    :: k < NC -> run Correct(k); k++
    :: else -> break
    od
  }
}
