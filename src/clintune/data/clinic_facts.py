"""The vocabulary of the clinic-note writer (clinic_notes.py): presenting problems as consultants write them up.

Invented from general medical knowledge; no row is drawn from any real record. A study result may hold "{0}" and
"{1}", filled with values drawn from its ranges; a diagnosis may hold "{bmi}". Each problem keeps the clinician's
words and a patient's plain words (`plain`, `Study.plain`, `Drug.dose_plain`, `Drug.why_plain`), so a paraphrase can
restate the note without adding facts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Study:
    name: str  # as written in the note
    result: str  # "{0}" and "{1}" are drawn from `ranges`
    plain: str = ""  # the result in plain words (imaging studies only)
    ranges: tuple[tuple[float, float, int], ...] = ()  # (low, high, decimals) for each value


@dataclass(frozen=True)
class Drug:
    name: str
    dose: str
    dose_plain: str
    why: str  # what it is started for, as the plan writes it
    why_plain: str  # with its preposition: "for the chest pain", "to help the stone pass"


@dataclass(frozen=True)
class Problem:
    specialty: str  # follow-up is in "{specialty} clinic"
    consult: str  # REASON FOR CONSULTATION
    complaint: str  # the clinical noun phrase of the HPI
    plain: str  # the patient's words, written as the chief complaint
    sex: str  # "M", "F" or "" for either
    ages: tuple[int, int]
    unit: str  # of the symptom duration
    durations: tuple[int, int]
    features: tuple[str, ...]  # what the patient reports
    denies: tuple[str, ...]
    prior: tuple[str, str, str]  # (treatment tried, how, what happened): "but it {outcome}"
    exam: tuple[str, str]  # (exam heading, the key finding)
    labs: tuple[Study, ...]  # the first is always written
    imaging: Study
    imaging_unit: str  # how long ago the imaging was done is counted in these
    dx: str  # the first impression
    why: str  # "{dx}; this {why}."
    drug: Drug | None
    plan: tuple[str, ...]


PROBLEMS = (
    Problem("urology", "Gross hematuria.", "gross hematuria", "blood in the urine", "", (45, 85), "week", (1, 8),
            ("intermittent, painless bleeding", "passage of small clots", "mild urinary frequency"),
            ("dysuria", "flank pain", "fever"),
            ("ciprofloxacin", "500 mg p.o. b.i.d. for 7 days", "did not change the bleeding"),
            ("GU", "Normal external genitalia; no CVA tenderness."),
            (Study("UA", "{0}+ blood, RBC >50/hpf, negative nitrites", ranges=((2, 3, 0),)),
             Study("creatinine", "{0} mg/dL", ranges=((0.7, 1.4, 1),)),
             Study("urine cytology", "atypical urothelial cells")),
            Study("CT urogram",
                  "a {0} cm enhancing mass along the left lateral bladder wall; the kidneys and ureters are normal",
                  "a {0} cm growth on the left side of the bladder wall, with normal kidneys and ureters",
                  ((1.0, 3.5, 1),)), "week",
            "Painless gross hematuria with a bladder mass on CT", "is concerning for urothelial carcinoma", None,
            ("office cystoscopy", "TURBT if a bladder tumor is confirmed", "smoking cessation counseling")),
    Problem("urology", "Elevated PSA.", "an elevated PSA", "a high PSA level", "M", (50, 78), "month", (1, 9),
            ("mild nocturia", "a slow stream", "no prior prostate biopsy"), ("bone pain", "hematuria", "weight loss"),
            ("ciprofloxacin", "500 mg p.o. b.i.d. for 2 weeks", "did not bring the PSA down"),
            ("DRE", "Prostate about 40 g, smooth, with a firm nodule at the right base."),
            (Study("PSA", "{0} ng/mL, up from {1} ng/mL 1 year ago", ranges=((4.5, 12.0, 1), (2.0, 3.9, 1))),
             Study("free PSA", "{0}%", ranges=((8, 14, 0),)), Study("UA", "negative")),
            Study("prostate MRI", "a {0} cm PI-RADS 4 lesion in the right peripheral zone",
                  "a {0} cm suspicious spot on the right side of the prostate", ((0.8, 1.9, 1),)), "week",
            "Elevated PSA with an abnormal DRE and a PI-RADS 4 lesion",
            "raises concern for clinically significant prostate cancer", None,
            ("MRI-targeted transperineal prostate biopsy", "review of biopsy risks, including bleeding and infection")),
    Problem("urology", "Left ureteral stone.", "left flank pain", "pain in the left side and back", "", (25, 70), "day",
            (2, 9),
            ("colicky pain radiating to the left groin", "nausea", "pink urine"), ("fever", "chills", "dysuria"),
            ("ibuprofen", "600 mg p.o. every 6 hours p.r.n.", "helped only partially"),
            ("BACK", "Left CVA tenderness; abdomen soft and nontender."),
            (Study("UA", "RBC {0}-{1}/hpf, no nitrites or leukocyte esterase", ranges=((5, 10, 0), (20, 50, 0))),
             Study("creatinine", "{0} mg/dL", ranges=((0.7, 1.3, 1),)), Study("WBC", "{0} K/uL", ranges=((6, 11, 1),))),
            Study("CT abdomen and pelvis without contrast",
                  "a {0} mm stone in the left proximal ureter with mild left hydronephrosis; the right kidney is "
                  "normal",
                  "a {0} mm stone in the left ureter near the kidney, with mild backup of urine in the left kidney; "
                  "the right kidney is normal", ((4, 9, 0),)), "day",
            "Left proximal ureteral stone with mild hydronephrosis", "may pass with medical expulsive therapy",
            Drug("tamsulosin", "0.4 mg p.o. daily", "0.4 mg by mouth every day", "medical expulsive therapy",
                 "to help the stone pass"),
            ("strain all urine", "KUB before the next visit",
             "ureteroscopy with laser lithotripsy if it does not pass")),
    Problem("urology", "Lower urinary tract symptoms.", "LUTS", "a weak stream and getting up at night to urinate", "M",
            (55, 85), "month", (6, 24),
            ("nocturia 3-4 times nightly", "hesitancy", "a sensation of incomplete emptying"),
            ("gross hematuria", "dysuria", "urinary retention"),
            ("saw palmetto", "320 mg daily", "made no difference"),
            ("RECTAL", "Prostate approximately 50 g, smooth, symmetric and nontender without nodules."),
            (Study("PSA", "{0} ng/mL", ranges=((1.0, 3.5, 1),)), Study("IPSS", "{0}/35", ranges=((14, 24, 0),)),
             Study("UA", "negative")),
            Study("renal and bladder ultrasound", "a prostate volume of {0} mL and a PVR of {1} mL",
                  "a prostate of {0} mL, with {1} mL of urine left in the bladder after urinating",
                  ((40, 75, 0), (60, 180, 0))), "week",
            "BPH with moderate LUTS", "is bothersome and interferes with sleep",
            Drug("tamsulosin", "0.4 mg p.o. q.h.s.", "0.4 mg by mouth at bedtime", "BPH with LUTS",
                 "for the urinary symptoms"),
            ("fluid restriction in the evening", "finasteride if symptoms persist")),
    Problem("urology", "Erectile dysfunction.", "erectile dysfunction", "difficulty with erections", "M", (40, 75),
            "month", (6, 30), ("difficulty maintaining erections", "fewer morning erections", "preserved libido"),
            ("penile curvature", "chest pain with exertion"),
            ("sildenafil", "50 mg p.r.n.", "gave only a partial response"),
            ("GU", "Normal phallus without plaques; testes descended bilaterally and of normal size."),
            (Study("morning total testosterone", "{0} ng/dL", ranges=((350, 650, 0),)),
             Study("HbA1c", "{0}%", ranges=((5.4, 7.8, 1),)), Study("LDL", "{0} mg/dL", ranges=((110, 170, 0),))),
            Study("penile duplex ultrasound", "a peak systolic velocity of {0} cm/s after injection",
                  "reduced flow into the penis, at {0} cm/s after injection", ((18, 28, 0),)), "week",
            "Erectile dysfunction, likely vasculogenic", "is consistent with his vascular risk factors",
            Drug("tadalafil", "5 mg p.o. daily", "5 mg by mouth every day", "erectile dysfunction",
                 "for the erection problems"),
            ("no nitrates with tadalafil", "cardiovascular risk assessment with the primary care physician")),
    Problem("bariatric surgery", "Evaluation for laparoscopic Roux-en-Y gastric bypass.", "morbid obesity",
            "severe obesity", "", (25, 65), "year", (5, 20),
            ("multiple failed diet attempts", "OSA on CPAP", "knee pain that limits exercise"),
            ("binge eating", "heartburn"),
            ("phentermine", "37.5 mg daily for 6 months", "led to only a 5 kg weight loss"),
            ("ABDOMEN", "Obese, soft and nontender; no hernias."),
            (Study("HbA1c", "{0}%", ranges=((5.8, 8.2, 1),)), Study("TSH", "{0} mIU/L", ranges=((0.8, 3.9, 1),)),
             Study("CBC", "within normal limits")),
            Study("abdominal ultrasound", "hepatic steatosis without gallstones",
                  "fat in the liver, with no gallstones"), "month",
            "Morbid obesity with a BMI of {bmi} kg/m2 and OSA", "qualifies for bariatric surgery", None,
            ("nutrition and psychology evaluations", "upper endoscopy before surgery",
             "laparoscopic Roux-en-Y gastric bypass once cleared")),
    Problem("general surgery", "Symptomatic gallstones.", "right upper quadrant pain after meals",
            "pain in the upper right belly after meals", "", (25, 75), "month", (1, 8),
            ("pain after fatty meals", "nausea", "episodes lasting 1-3 hours"),
            ("jaundice", "fever", "pale stools"),
            ("omeprazole", "20 mg p.o. daily", "did not help"),
            ("ABDOMEN", "Mild RUQ tenderness; negative Murphy sign."),
            (Study("LFTs", "total bilirubin {0} mg/dL with a normal alkaline phosphatase", ranges=((0.4, 1.1, 1),)),
             Study("lipase", "{0} U/L", ranges=((20, 55, 0),)), Study("WBC", "{0} K/uL", ranges=((5, 10, 1),))),
            Study("RUQ ultrasound", "multiple gallstones, the largest {0} cm, with a normal gallbladder wall and a CBD "
                  "of {1} mm", "several gallstones, the largest {0} cm, with a normal gallbladder wall and a normal "
                  "common bile duct of {1} mm", ((0.6, 2.2, 1), (3, 5, 0))), "week",
            "Symptomatic cholelithiasis", "is best treated with cholecystectomy",
            Drug("ondansetron", "4 mg p.o. every 8 hours p.r.n.", "4 mg by mouth every 8 hours as needed",
                 "nausea", "for nausea"),
            ("laparoscopic cholecystectomy", "a low-fat diet until surgery")),
    Problem("general surgery", "Right inguinal hernia.", "a right groin bulge", "a bulge in the right groin", "M",
            (30, 80), "month", (2, 18), ("a bulge that enlarges with straining", "aching pain with lifting"),
            ("nausea", "vomiting", "constipation"),
            ("acetaminophen", "500 mg p.r.n.", "only partly eased the aching"),
            ("GROIN", "Reducible right inguinal hernia with a cough impulse; no tenderness."),
            (Study("CBC", "within normal limits"), Study("BMP", "within normal limits")),
            Study("groin ultrasound", "a {0} cm fat-containing right inguinal hernia",
                  "a {0} cm hernia on the right side that holds fat", ((2.0, 4.5, 1),)), "week",
            "Symptomatic reducible right inguinal hernia", "should be repaired electively", None,
            ("elective laparoscopic right inguinal hernia repair with mesh", "no heavy lifting until the repair")),
    Problem("allergy", "Allergic rhinitis.", "nasal congestion and sneezing", "a runny nose and sneezing", "",
            (18, 60), "year", (2, 15), ("worse symptoms every spring", "itchy, watery eyes", "postnasal drip"),
            ("wheezing", "facial pain", "fever"),
            ("loratadine", "10 mg daily", "helped only partially"),
            ("HEENT", "Pale, boggy nasal turbinates with clear rhinorrhea; mild conjunctival injection."),
            (Study("total IgE", "{0} IU/mL", ranges=((120, 480, 0),)), Study("CBC", "eosinophils {0}%",
                                                                             ranges=((4, 9, 0),))),
            Study("skin prick testing", "wheals of {0} mm to tree and grass pollen and dust mites",
                  "reactions of {0} mm to tree and grass pollen and dust mites", ((5, 12, 0),)), "week",
            "Allergic rhinitis, seasonal and perennial", "is poorly controlled on an antihistamine alone",
            Drug("fluticasone nasal spray", "50 mcg, 2 sprays each nostril daily", "2 sprays in each nostril every day",
                 "allergic rhinitis", "for the allergic nose symptoms"),
            ("dust mite avoidance measures", "allergen immunotherapy if symptoms persist")),
    Problem("neurology", "Headaches.", "recurrent headaches", "headaches", "F", (18, 55), "year", (1, 12),
            ("throbbing one-sided headaches", "light and sound sensitivity", "8-10 headache days per month"),
            ("visual aura", "focal weakness", "fever"),
            ("ibuprofen", "800 mg p.r.n.", "gives only partial relief"),
            ("NEURO", "Cranial nerves intact; normal fundi; strength 5/5 throughout; normal gait."),
            (Study("CBC", "within normal limits"), Study("BMP", "within normal limits")),
            Study("MRI brain without contrast", "no acute intracranial abnormality", "nothing of concern in the brain"),
            "month", "Migraine without aura", "is frequent enough to warrant preventive therapy",
            Drug("topiramate", "25 mg p.o. q.h.s.", "25 mg by mouth at bedtime", "migraine prevention",
                 "to prevent the headaches"),
            ("a headache diary", "sumatriptan 50 mg p.r.n. for acute attacks", "NSAIDs on fewer than 10 days a month")),
    Problem("cardiology", "Exertional chest pain.", "exertional chest pain", "chest pain with walking", "", (40, 80),
            "week", (2, 10), ("substernal pressure with exertion", "relief with rest within 5 minutes",
                              "dyspnea on exertion"), ("pain at rest", "syncope", "palpitations"),
            ("omeprazole", "20 mg daily", "did not change the pain"),
            ("HEART", "RRR, normal S1 and S2, no murmurs, rubs or gallops."),
            (Study("troponin", "less than 0.01 ng/mL"), Study("ECG", "normal sinus rhythm without ST changes"),
             Study("LDL", "{0} mg/dL", ranges=((120, 190, 0),))),
            Study("treadmill stress echocardiogram", "inducible inferior wall hypokinesis at {0} METs, with an EF of "
                  "{1}% at rest", "part of the heart wall moved poorly during exercise, with an EF of {1}% at rest",
                  ((5, 9, 0), (55, 65, 0))), "week",
            "Exertional angina with an abnormal stress test", "is concerning for obstructive coronary artery disease",
            Drug("metoprolol succinate", "25 mg p.o. daily", "25 mg by mouth every day", "angina",
                 "for the chest pain"),
            ("cardiac catheterization", "aspirin 81 mg p.o. daily", "sublingual nitroglycerin p.r.n. chest pain")),
    Problem("orthopedics", "Right knee pain.", "right knee pain", "right knee pain", "", (50, 85), "year", (1, 10),
            ("pain worse on stairs", "morning stiffness lasting 15 minutes", "intermittent swelling"),
            ("locking", "giving way", "recent trauma"),
            ("naproxen", "500 mg p.o. b.i.d.", "helped only partially"),
            ("RIGHT KNEE", "Medial joint line tenderness, small effusion, crepitus; motion 5 to 110 degrees; stable."),
            (Study("ESR", "{0} mm/h", ranges=((5, 25, 0),)), Study("uric acid", "{0} mg/dL", ranges=((4.0, 6.5, 1),))),
            Study("standing right knee x-ray series", "severe medial joint space narrowing with osteophytes and "
                  "subchondral "
                  "bone sclerosis", "much less space on the inner side of the knee joint, with bone spurs and "
                  "thicker bone underneath"), "week",
            "Right knee osteoarthritis, medial compartment", "has failed conservative management",
            Drug("diclofenac 1% gel", "4 g to the right knee four times daily", "4 g rubbed on the right knee four "
                 "times a day", "knee osteoarthritis", "for the worn knee joint"),
            ("physical therapy for quadriceps strengthening", "weight loss",
             "total knee arthroplasty if it progresses")),
    Problem("neurology", "Right hand numbness.", "right hand numbness", "numbness in the right hand", "", (30, 70),
            "month", (3, 18), ("numbness in the thumb, index and middle fingers",
                               "night symptoms that wake the patient",
                               "dropping objects"), ("neck pain", "trauma"),
            ("a cock-up wrist splint", "at night for 6 weeks", "helped only briefly"),
            ("EXTREMITIES", "Positive Tinel and Phalen signs at the right wrist; thenar atrophy; APB strength 4/5."),
            (Study("TSH", "{0} mIU/L", ranges=((0.8, 3.9, 1),)), Study("HbA1c", "{0}%", ranges=((5.0, 5.9, 1),))),
            Study("EMG with nerve conduction studies", "a right median distal motor latency of {0} ms with slowed "
                  "sensory conduction across the wrist", "slowed signals in the right median nerve at the wrist, with "
                  "a delay of {0} ms", ((4.8, 6.9, 1),)), "week",
            "Right carpal tunnel syndrome, moderate to severe", "has not improved with splinting", None,
            ("right carpal tunnel release", "night splinting until surgery")),
    Problem("cardiology", "Palpitations.", "palpitations", "a racing heart", "", (50, 85), "week", (2, 12),
            ("episodes of a rapid, irregular heartbeat lasting hours", "fatigue", "mild dyspnea on exertion"),
            ("syncope", "chest pain", "focal weakness"),
            ("metoprolol tartrate", "12.5 mg b.i.d.", "reduced the episodes only slightly"),
            ("HEART", "Irregularly irregular rhythm, no murmurs; no JVD."),
            (Study("ECG", "atrial fibrillation with a ventricular rate of {0} bpm", ranges=((88, 124, 0),)),
             Study("TSH", "{0} mIU/L", ranges=((0.8, 3.9, 1),)), Study("BMP", "within normal limits")),
            Study("transthoracic echocardiogram", "an EF of {0}% with a mildly dilated left atrium of {1} cm",
                  "an EF of {0}%, with the left receiving chamber of the heart slightly enlarged at {1} cm",
                  ((50, 62, 0), (4.1, 4.7, 1))), "week",
            "Paroxysmal atrial fibrillation", "carries an increased risk of stroke",
            Drug("apixaban", "5 mg p.o. b.i.d.", "5 mg by mouth twice a day", "stroke prevention",
                 "to reduce the risk of stroke"),
            ("a 48-hour Holter monitor", "discussion of rhythm control at follow-up")),
)

# Past medical history: (name, shorthand or "", home medication, dose).
CONDITIONS = (
    ("hypertension", "HTN", "lisinopril", "10 mg p.o. daily"),
    ("hyperlipidemia", "HLD", "atorvastatin", "20 mg p.o. q.h.s."),
    ("type 2 diabetes mellitus", "DM2", "metformin", "500 mg p.o. b.i.d."),
    ("gastroesophageal reflux disease", "GERD", "pantoprazole", "40 mg p.o. daily"),
    ("hypothyroidism", "", "levothyroxine", "75 mcg p.o. daily"),
    ("depression", "", "sertraline", "50 mg p.o. daily"),
    ("asthma", "", "albuterol inhaler", "2 puffs p.r.n."),
    ("gout", "", "allopurinol", "100 mg p.o. daily"),
)
SURGERIES = ("appendectomy", "tonsillectomy", "lumbar laminectomy", "cataract surgery", "left shoulder arthroscopy")
ALLERGIES = (("penicillin", "hives"), ("sulfa drugs", "a rash"), ("codeine", "nausea"), ("latex", "itching"))
ALCOHOL = ("Drinks 2-3 beers a week.", "Occasional alcohol.", "Denies alcohol use.", "Drinks a glass of wine nightly.")
WORK = ("Retired.", "Works in an office.", "Works in construction.", "Works as a teacher.")
FAMILY = ("father with prostate cancer", "mother with breast cancer", "father with an MI at age 62",
          "brother with colon cancer", "mother with a stroke in her 70s")
TITLES = {"consult": ("CONSULTATION", "{SPECIALTY} CONSULTATION"), "history and physical": ("HISTORY AND PHYSICAL",),
          "follow-up": ("FOLLOW-UP VISIT", "PROGRESS NOTE")}
CLOSINGS = ("Thank you for this referral. I will keep you updated on the patient's progress.",
            "Thank you for allowing me to participate in the care of this patient.")
ROS = ("Negative except as noted in the HPI.", "A 10-point review of systems is otherwise negative.")
VITALS = (("BP {0}/{1} mmHg, HR {2} bpm", ", RR {3}, T {4} F, SpO2 {5}% on RA"),
          ("Blood pressure {0}/{1} mmHg, pulse {2} bpm", ", respirations {3}, temperature {4} F"))
IMAGING = ("{name} done {ago} ago was reviewed, and it showed {result}.",
           "{name} was obtained {ago} ago; it showed {result}.")
EXAM_ORDER = ("GENERAL", "HEENT", "NECK", "LUNGS", "HEART", "ABDOMEN", "BACK", "GU", "DRE", "RECTAL", "GROIN",
              "EXTREMITIES", "RIGHT KNEE", "NEURO")
# Generic exam lines, (heading, finding); one whose heading the problem's own finding uses is left out.
EXAM = (("GENERAL", "Well-appearing, in NAD."), ("HEENT", "Normocephalic, atraumatic; oropharynx clear."),
        ("NECK", "Supple, no lymphadenopathy."), ("LUNGS", "CTA bilaterally."), ("HEART", "RRR, no murmurs."),
        ("ABDOMEN", "Soft, nontender, nondistended."), ("EXTREMITIES", "No edema."), ("NEURO", "Grossly nonfocal."))

# Abbreviations the writer may put in a note, with what they stand for.
ABBREVIATIONS = {
    "y/o": "years old", "h/o": "history of", "c/o": "complaining of", "s/p": "status post", "HPI": "history of "
    "present illness", "PMH": "past medical history", "PSH": "past surgical history", "ROS": "review of systems",
    "NKDA": "no known drug allergies", "BP": "blood pressure", "HR": "heart rate", "RR": "respiratory rate",
    "SpO2": "oxygen saturation", "RA": "room air", "BMI": "body mass index", "NAD": "no acute distress",
    "HEENT": "head, eyes, ears, nose and throat", "CTA": "clear to auscultation", "RRR": "regular rate and rhythm",
    "CVA": "costovertebral angle", "GU": "genitourinary", "DRE": "digital rectal examination", "UA": "urinalysis",
    "RBC": "red blood cells", "hpf": "high-power field", "PSA": "prostate-specific antigen",
    "CT": "computed tomography", "MRI": "magnetic resonance imaging",
    "PI-RADS": "Prostate Imaging Reporting and Data System", "TURBT": "transurethral resection of bladder tumor",
    "LUTS": "lower urinary tract symptoms", "BPH": "benign prostatic hyperplasia",
    "IPSS": "International Prostate Symptom Score", "PVR": "post-void residual", "KUB": "kidneys, ureters and bladder",
    "HbA1c": "hemoglobin A1c", "LDL": "low-density lipoprotein", "TSH": "thyroid-stimulating hormone",
    "LFTs": "liver function tests", "RUQ": "right upper quadrant", "CBD": "common bile duct",
    "CBC": "complete blood count", "BMP": "basic metabolic panel", "WBC": "white blood cell count",
    "IgE": "immunoglobulin E", "NSAIDs": "nonsteroidal anti-inflammatory drugs", "ECG": "electrocardiogram",
    "EF": "ejection fraction", "METs": "metabolic equivalents", "JVD": "jugular venous distension",
    "EMG": "electromyography", "APB": "abductor pollicis brevis", "ESR": "erythrocyte sedimentation rate",
    "OSA": "obstructive sleep apnea", "CPAP": "continuous positive airway pressure", "ED": "erectile dysfunction",
    "HTN": "hypertension", "HLD": "hyperlipidemia", "DM2": "type 2 diabetes mellitus",
    "GERD": "gastroesophageal reflux disease", "MI": "myocardial infarction", "ST": "ST segment",
    "RTC": "return to clinic", "p.o.": "by mouth", "b.i.d.": "twice a day", "q.h.s.": "at bedtime",
    "p.r.n.": "as needed", "ppd": "packs per day",
    # units
    "mg": "milligrams", "mcg": "micrograms", "g": "grams", "kg": "kilograms", "mL": "milliliters", "cm": "centimeters",
    "mm": "millimeters", "ms": "milliseconds", "mg/dL": "milligrams per deciliter", "ng/mL": "nanograms per milliliter",
    "ng/dL": "nanograms per deciliter", "K/uL": "thousand per microliter", "U/L": "units per liter",
    "IU/mL": "international units per milliliter", "mIU/L": "milli-international units per liter",
    "mm/h": "millimeters per hour", "cm/s": "centimeters per second", "mmHg": "millimeters of mercury",
    "bpm": "beats per minute", "kg/m2": "kilograms per square meter", "F": "degrees Fahrenheit",
}
# Never asked about: units, and expansions that are a single word the note does not spell out.
NOT_ASKED = frozenset(("mg", "mcg", "g", "kg", "mL", "cm", "mm", "ms", "mg/dL", "ng/mL", "ng/dL", "K/uL", "U/L",
                       "IU/mL", "mIU/L", "mm/h", "cm/s", "mmHg", "bpm", "kg/m2", "F", "UA", "ECG", "EMG", "GU",
                       "HTN", "HLD", "DM2", "SpO2", "HbA1c", "ST"))
# Tests and studies, for the abbreviation questions about the LABS/STUDIES section.
TEST_ABBREVIATIONS = frozenset(("PSA", "CT", "MRI", "PI-RADS", "IPSS", "PVR", "KUB", "LDL", "TSH", "LFTs", "CBD",
                                "CBC", "BMP", "WBC", "IgE", "EF", "METs", "ESR", "RBC", "hpf"))

# What no clinic note holds: the basis of the unanswerable questions.
ABSENT_ABBREVIATIONS = ("TPN", "ESRD", "SLE", "HCC", "ARDS", "DKA", "COPD", "PICC")
ABSENT_CONDITIONS = ("epilepsy", "rheumatoid arthritis", "psoriasis", "glaucoma", "multiple sclerosis")
ABSENT_STUDIES = ("sleep study", "bone density scan", "colonoscopy", "pulmonary function test", "genetic test")
# How each question family may be asked; "{name}" and the like are filled from the record.
PHRASINGS = {
    "medications": ("List the patient's current medications.", "What meds is the patient on?",
                    "Extract the home medications from the note."),
    "conditions": ("What is the past medical history?", "List the chronic conditions in the past medical history.",
                   "PMH?"),
    "tests": ("Which labs and studies are reported?", "List the tests documented in the note."),
    "reported": ("What does the patient report in the history?", "List the positive findings of the HPI."),
    "denies": ("Which symptoms does the patient deny?", "What pertinent negatives are documented?"),
    "abbreviation": ("What does {abbr} stand for in this note?", "Expand the abbreviation '{abbr}'.",
                     "What is meant by {abbr} here?"),
    "new drug": ("Why was {drug} started?", "What is {drug} being prescribed for?"),
    "home drug": ("Why does the patient take {drug}?", "Which condition is {drug} for?"),
    "finding": ("What did the {study} show?", "What finding was reported on the {study}?"),
    "reaction": ("What reaction does the patient have to {drug}?", "What happens when the patient gets {drug}?"),
    "prior": ("What was the effect of the {tried}?", "Did the {tried} help?"),
    "duration": ("How long has the patient had {complaint}?", "How long have the symptoms been going on?",
                 "Duration of symptoms?"),
    "study when": ("When was the {study} done?", "How long ago was the {study} performed?"),
    "surgery when": ("When did the patient have the {surgery}?", "How long ago was the {surgery}?"),
    "follow-up": ("When is the next visit?", "When should the patient follow up?", "When does the patient return?"),
    "pronoun": ("In '{sentence}', what does '{pronoun}' refer to?", "What does '{pronoun}' refer to in '{sentence}'?",
                "Resolve '{pronoun}' in: '{sentence}'"),
    "plainly": ("Paraphrase this sentence in plain language for the patient: '{sentence}'",
                "Rewrite '{sentence}' so that a patient can understand it.", "Explain '{sentence}' in simple words."),
    "summary": ("Summarize this clinic note in one sentence.", "Give a one-line summary of the visit.",
                "Brief summary for the handoff?", "Summarize this visit in one or two sentences."),
    "summary plan": ("Summarize the assessment and plan.", "Briefly, what are the impression and plan?"),
    "summary history": ("Summarize the history of present illness.", "Give a brief HPI summary."),
    "plan": ("What's the plan?", "What is the plan for this patient?", "What was recommended?"),
    "key lab": ("What was the {lab}?", "{lab} result?", "What did the {lab} show?"),
    "allergies": ("Any allergies?", "What drug allergies does the patient have?", "Allergies?"),
    "blood pressure": ("What was the blood pressure?", "BP?", "What was the BP at this visit?"),
    "smoking": ("Does the patient smoke?", "Smoking history?", "What is the tobacco history?"),
}

# Unanswerable questions of each task: (a field of the record that must be unwritten, or ""; the question; what the
# note lacks). "{study}", "{abbr}", "{condition}" and "{allergen}" are filled with something this note does not hold.
ABSENT = {
    "Named Entity Recognition": (("allergies", "List the patient's drug allergies.", "the patient's allergies"),
                                 ("surgeries", "List the patient's prior surgeries.", "the patient's surgical history"),
                                 ("", "Which vaccines has the patient received?", "the patient's vaccinations")),
    "Abbreviation Expansion": (("", "What does {abbr} stand for in this note?", "the abbreviation {abbr}"),
                               ("", "Expand the abbreviation '{abbr}'.", "the abbreviation {abbr}")),
    "Relation Extraction": (("", "What reaction does the patient have to {allergen}?", "an allergy to {allergen}"),
                            ("", "Which medication does the patient take for {condition}?",
                             "{condition} or a medication for it")),
    "Temporal Information Extraction": (("", "When did the patient last have a {study}?", "a {study}"),
                                        ("surgeries", "When was the patient's last operation?", "any prior surgery")),
    "Coreference Resolution": (("", "In the sentence about the {study}, what does 'it' refer to?", "a {study}"),),
    "Paraphrasing": (("family", "Paraphrase the family history for the patient.", "the patient's family history"),
                     ("surgeries", "Explain the patient's prior surgeries in plain language.",
                      "the patient's prior surgeries"),
                     ("", "Explain the results of the {study} in plain language.", "a {study}")),
    "Summarization": (("", "Summarize the hospital course.", "a hospital course"),
                      ("", "Summarize the {study} results.", "a {study}")),
    "Question Answering": (("allergies", "Any allergies?", "the patient's allergies"),
                           ("tobacco", "Does the patient smoke?", "the patient's smoking history"),
                           ("", "What is the patient's blood type?", "the patient's blood type"),
                           ("", "What was the vitamin D level?", "a vitamin D level"),
                           ("", "What is the patient's code status?", "a code status")),
}
