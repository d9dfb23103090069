;; The token-event fast path of ChatEventDecoder, over the bytes of one ASCII read.
;; A run is a sequence of events written exactly as the real server writes them,
;;   data: {"event_type": "token", "text": "<text>"}\r\n\r\n
;; where <text> is a JSON string body of printable ASCII with valid escapes and the
;; line is at most $limit characters long. Scanning stops at the first event that is
;; anything else, or unfinished; the decoder's general path takes it from there.
;; `npm run build:wasm` compiles this file into token-run-scanner-wasm.ts.
(module
  (memory (export "memory") 1)
  ;; Where the run stopped: the first byte of the first event not taken.
  (global $end (export "end") (mut i32) (i32.const 0))
  ;; `join`: where the joined text ends.
  (global $written (export "written") (mut i32) (i32.const 0))
  ;; Set by $text: the text it just read holds a backslash escape.
  (global $escaped (mut i32) (i32.const 0))

  ;; 'data: {"event_type": "token", "text": "' (39 bytes) at $pos, read as five
  ;; little-endian i64 (the last one overlaps the fourth).
  (func $head (param $pos i32) (result i32)
    (i32.and
      (i32.and
        (i64.eq (i64.load offset=0 (local.get $pos)) (i64.const 0x227b203a61746164))
        (i64.eq (i64.load offset=8 (local.get $pos)) (i64.const 0x79745f746e657665)))
      (i32.and
        (i32.and
          (i64.eq (i64.load offset=16 (local.get $pos)) (i64.const 0x6f7422203a226570))
          (i64.eq (i64.load offset=24 (local.get $pos)) (i64.const 0x7422202c226e656b)))
        (i64.eq (i64.load offset=31 (local.get $pos)) (i64.const 0x22203a2274786574)))))

  (func $hex (param $b i32) (result i32)
    (i32.or
      (i32.lt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 10))
      (i32.lt_u (i32.sub (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x61)) (i32.const 6))))

  ;; The value of a hex digit $hex accepted.
  (func $digit (param $b i32) (result i32)
    (select
      (i32.sub (local.get $b) (i32.const 0x30))
      (i32.sub (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x57))
      (i32.le_u (local.get $b) (i32.const 0x39))))

  ;; The code unit of the escape at $i ('\' then a letter, or '\uXXXX'), which $text checked.
  (func $unescaped (param $i i32) (result i32)
    (local $e i32)
    (local.set $e (i32.load8_u offset=1 (local.get $i)))
    (if (i32.eq (local.get $e) (i32.const 0x75))
      (then
        (return
          (i32.or
            (i32.or
              (i32.shl (call $digit (i32.load8_u offset=2 (local.get $i))) (i32.const 12))
              (i32.shl (call $digit (i32.load8_u offset=3 (local.get $i))) (i32.const 8)))
            (i32.or
              (i32.shl (call $digit (i32.load8_u offset=4 (local.get $i))) (i32.const 4))
              (call $digit (i32.load8_u offset=5 (local.get $i))))))))
    ;; \b \f \n \r \t; \" \\ \/ stand for themselves
    (if (i32.eq (local.get $e) (i32.const 0x62)) (then (return (i32.const 0x08))))
    (if (i32.eq (local.get $e) (i32.const 0x66)) (then (return (i32.const 0x0c))))
    (if (i32.eq (local.get $e) (i32.const 0x6e)) (then (return (i32.const 0x0a))))
    (if (i32.eq (local.get $e) (i32.const 0x72)) (then (return (i32.const 0x0d))))
    (if (i32.eq (local.get $e) (i32.const 0x74)) (then (return (i32.const 0x09))))
    (local.get $e))

  ;; The text starting at $i: the offset of its closing quote, followed by '}\r\n\r\n',
  ;; or -1 when the event is not one for this path (or not all here).
  (func $text (param $i i32) (param $stop i32) (result i32)
    (local $b i32)
    (global.set $escaped (i32.const 0))
    (block $refused
      (loop $char
        (br_if $refused (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $b) (i32.const 0x22))
          (then
            ;; '"}\r\n' then '\r\n'
            (br_if $refused (i32.gt_u (i32.add (local.get $i) (i32.const 6)) (local.get $stop)))
            (br_if $refused (i32.ne (i32.load (local.get $i)) (i32.const 0x0a0d7d22)))
            (br_if $refused (i32.ne (i32.load16_u offset=4 (local.get $i)) (i32.const 0x0a0d)))
            (return (local.get $i))))
        (if (i32.eq (local.get $b) (i32.const 0x5c))
          (then
            (global.set $escaped (i32.const 1))
            (br_if $refused (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $stop)))
            (local.set $b (i32.load8_u offset=1 (local.get $i)))
            (if (i32.eq (local.get $b) (i32.const 0x75))
              (then
                ;; \uXXXX
                (br_if $refused (i32.gt_u (i32.add (local.get $i) (i32.const 6)) (local.get $stop)))
                (br_if $refused (i32.eqz (call $hex (i32.load8_u offset=2 (local.get $i)))))
                (br_if $refused (i32.eqz (call $hex (i32.load8_u offset=3 (local.get $i)))))
                (br_if $refused (i32.eqz (call $hex (i32.load8_u offset=4 (local.get $i)))))
                (br_if $refused (i32.eqz (call $hex (i32.load8_u offset=5 (local.get $i)))))
                (local.set $i (i32.add (local.get $i) (i32.const 6)))
                (br $char)))
            ;; \" \\ \/ \b \f \n \r \t
            (br_if $refused
              (i32.eqz
                (i32.or
                  (i32.or
                    (i32.or (i32.eq (local.get $b) (i32.const 0x22)) (i32.eq (local.get $b) (i32.const 0x5c)))
                    (i32.or (i32.eq (local.get $b) (i32.const 0x2f)) (i32.eq (local.get $b) (i32.const 0x62))))
                  (i32.or
                    (i32.or (i32.eq (local.get $b) (i32.const 0x66)) (i32.eq (local.get $b) (i32.const 0x6e)))
                    (i32.or (i32.eq (local.get $b) (i32.const 0x72)) (i32.eq (local.get $b) (i32.const 0x74)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $char)))
        ;; control characters (JSON refuses them raw) and non-ASCII bytes
        (br_if $refused (i32.ge_u (i32.sub (local.get $b) (i32.const 0x20)) (i32.const 0x60)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $char)))
    (i32.const -1))

  ;; The end of the text region a line starting at $pos may use: the line (up to and
  ;; with '"}') is at most $limit long, and the event's '\r\n\r\n' must fit in $len.
  (func $stop (param $pos i32) (param $len i32) (param $limit i32) (result i32)
    (local $byLimit i32)
    ;; the closing quote at most at $pos + $limit - 2, so the region ends 4 bytes after it
    (local.set $byLimit (i32.add (i32.add (local.get $pos) (local.get $limit)) (i32.const 4)))
    (select (local.get $byLimit) (local.get $len) (i32.lt_u (local.get $byLimit) (local.get $len))))

  ;; The run from $pos: (text start, text end) pairs of i32 at $out, the end's top bit
  ;; set when the text holds escapes. Returns how many; $end says where it stopped.
  (func (export "tokens") (param $pos i32) (param $len i32) (param $limit i32) (param $out i32) (result i32)
    (local $count i32) (local $quote i32)
    (block $done
      (loop $event
        (br_if $done (i32.gt_u (i32.add (local.get $pos) (i32.const 45)) (local.get $len)))
        (br_if $done (i32.eqz (call $head (local.get $pos))))
        (local.set $quote
          (call $text (i32.add (local.get $pos) (i32.const 39)) (call $stop (local.get $pos) (local.get $len) (local.get $limit))))
        (br_if $done (i32.lt_s (local.get $quote) (i32.const 0)))
        (i32.store (local.get $out) (i32.add (local.get $pos) (i32.const 39)))
        (i32.store offset=4 (local.get $out) (i32.or (local.get $quote) (i32.shl (global.get $escaped) (i32.const 31))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $pos (i32.add (local.get $quote) (i32.const 6)))
        (br $event)))
    (global.set $end (local.get $pos))
    (local.get $count))

;; The run from $pos, its texts' values (escapes resolved) one after the other from $out,
  ;; as UTF-16LE code units: returns how many; $written is where they end.
  (func (export "join") (param $pos i32) (param $len i32) (param $limit i32) (param $out i32) (result i32)
    (local $count i32) (local $quote i32) (local $i i32)
    (block $done
      (loop $event
        (br_if $done (i32.gt_u (i32.add (local.get $pos) (i32.const 45)) (local.get $len)))
        (br_if $done (i32.eqz (call $head (local.get $pos))))
        (local.set $i (i32.add (local.get $pos) (i32.const 39)))
        (local.set $quote (call $text (local.get $i) (call $stop (local.get $pos) (local.get $len) (local.get $limit))))
        (br_if $done (i32.lt_s (local.get $quote) (i32.const 0)))
        (block $copied
          (loop $char
            (br_if $copied (i32.ge_u (local.get $i) (local.get $quote)))
            (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x5c))
              (then
                (i32.store16 (local.get $out) (call $unescaped (local.get $i)))
                (local.set $i
                  (i32.add (local.get $i)
                    (select (i32.const 6) (i32.const 2) (i32.eq (i32.load8_u offset=1 (local.get $i)) (i32.const 0x75))))))
              (else
                (i32.store16 (local.get $out) (i32.load8_u (local.get $i)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))))
            (local.set $out (i32.add (local.get $out) (i32.const 2)))
            (br $char)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $pos (i32.add (local.get $quote) (i32.const 6)))
        (br $event)))
    (global.set $end (local.get $pos))
    (global.set $written (local.get $out))
    (local.get $count)))
