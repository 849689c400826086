"""The LR schedule of train.py: linear warm-up, constant, then an optional cosine decay to a floor."""
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from train import learning_rate, parse_args  # noqa: E402


class LearningRateTest(unittest.TestCase):
    def test_warm_up_then_constant_without_decay(self):
        self.assertAlmostEqual(learning_rate(0, 5e-4, 100), 5e-6)
        self.assertAlmostEqual(learning_rate(49, 5e-4, 100), 2.5e-4)
        self.assertEqual(learning_rate(99, 5e-4, 100), 5e-4)
        self.assertEqual(learning_rate(100_000, 5e-4, 100), 5e-4)

    def test_cosine_decay_from_its_start_to_the_floor(self):
        lr, start, steps, final = 5e-4, 3000, 1000, 0.05
        self.assertEqual(learning_rate(2999, lr, 100, start, steps, final), lr)
        self.assertAlmostEqual(learning_rate(3000, lr, 100, start, steps, final), lr)
        # half way: the cosine is at its midpoint between lr and the floor
        self.assertAlmostEqual(learning_rate(3500, lr, 100, start, steps, final), lr * (final + (1 - final) / 2))
        self.assertAlmostEqual(learning_rate(3250, lr, 100, start, steps, final),
                               lr * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi / 4))))
        self.assertAlmostEqual(learning_rate(4000, lr, 100, start, steps, final), lr * final)
        self.assertAlmostEqual(learning_rate(9000, lr, 100, start, steps, final), lr * final)
        rates = [learning_rate(s, lr, 100, start, steps, final) for s in range(3000, 4001, 50)]
        self.assertEqual(rates, sorted(rates, reverse=True))

    def test_bad_decay_arguments_are_refused(self):
        base = ["--data", "d", "--out", "o"]
        self.assertEqual(parse_args(base + ["--decay-start", "10"]).decay_start, 10)
        for bad in (["--decay-start", "-1"], ["--decay-steps", "0"], ["--lr-final", "1.5"]):
            with self.assertRaises(SystemExit):
                parse_args(base + bad)


if __name__ == "__main__":
    unittest.main()
